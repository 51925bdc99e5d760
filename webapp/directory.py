"""People as pages show them: the best label we know, the profile it links to, and the
contact rows of exports.

Every list of people (segment members, audiences, search results, live events, the
Customers grid) asks ``lookup`` once for its whole page; ``label`` decides the name shown.
"""

from __future__ import annotations

import hashlib

import pandas as pd
from flask_babel import gettext as _

from warehouse.queries import directory as store

from .access import warehouse
from .i18n import SEGMENT_ABOUT, site_display


def label(contact: dict) -> str:
    """Name, else email, else customer id, else user id, else a short anonymous label that stays
    the same for the same person."""
    for value in (contact.get("name"), contact.get("email")):
        if value:
            return value
    if contact.get("customer_ids"):
        return _("Customer %(id)s", id=contact["customer_ids"][0])
    if contact.get("user_ids"):
        return _("User %(id)s", id=contact["user_ids"][0])
    key = contact.get("key", "")
    tag = key[2:8] if key.startswith("p_") else hashlib.sha256(key.encode("utf-8")).hexdigest()[:6]
    return _("Anonymous %(tag)s", tag=tag)


def profile_ref(contact: dict) -> str | None:
    """What the profile URL takes for this person: the person id, else its one known identity."""
    key = contact.get("key", "")
    if key.startswith("p_") and contact.get("identities"):
        return key
    for kind in ("user:", "customer:", "anon:"):
        for identity in contact.get("identities") or []:
            if identity.startswith(kind):
                return identity
    return None


def lookup(site_id: str, keys) -> dict[str, dict]:
    """Contacts of a page of people (one query), each with its ``label`` and profile ``ref``."""
    found = store.contacts(warehouse(), site_id, [str(k) for k in keys])
    for contact in found.values():
        contact["label"] = label(contact)
        contact["ref"] = profile_ref(contact)
    return found


def value_kind(segment: str) -> str:
    """What a segment's value counts (``i18n.SEGMENT_ABOUT``): money, cart, views, days; "" for custom segments."""
    return SEGMENT_ABOUT[segment][1] if segment in SEGMENT_ABOUT else ""


def value_header(segment: str) -> str:
    """The value column's header on the page, saying what it counts and in which unit."""
    kind = value_kind(segment)
    if kind == "views":
        return _("Product views (count)")
    if kind == "days":
        return _("Active days (count)")
    if not kind:
        return _("Value")
    currency = site_display().get("currency") or ""
    if kind == "cart":
        return _("Open cart value (%(currency)s)", currency=currency) if currency else _("Open cart value")
    return _("Spend to date (%(currency)s)", currency=currency) if currency else _("Spend to date")


def value_column(segment: str) -> str:
    """The value's column in exports: the same in every language, with the currency when it is money."""
    kind = value_kind(segment)
    if kind in ("views", "days"):
        return {"views": "product_views", "days": "active_days"}[kind]
    if not kind:
        return "value"
    currency = site_display().get("currency") or ""
    name = "open_cart_value" if kind == "cart" else "spend_to_date"
    return f"{name}_{currency}" if currency else name


def email_hash(email: str) -> str:
    """SHA-256 of the trimmed, lowercased address: what Google and Meta customer match upload."""
    email = (email or "").strip().lower()
    return hashlib.sha256(email.encode("utf-8")).hexdigest() if email else ""


CONTACT_COLUMNS = ["person_id", "name", "email", "phone", "user_ids", "customer_ids"]


def contact_frame(site_id: str, frame: pd.DataFrame, hashed: bool = False) -> pd.DataFrame:
    """``frame`` (with ``person_id``) with who each person is in front, ready for an email or ads
    tool; ``hashed`` gives the customer-match form: the email's SHA-256 and no raw contact."""
    people = lookup(site_id, frame["person_id"].tolist()) if len(frame) else {}
    rows = []
    for key in frame["person_id"]:
        c = people.get(str(key), {})
        rows.append(
            {
                "person_id": key,
                "name": c.get("name", ""),
                "email": c.get("email", ""),
                "phone": c.get("phone", ""),
                "user_ids": " ".join(c.get("user_ids", [])),
                "customer_ids": " ".join(c.get("customer_ids", [])),
            }
        )
    front = pd.DataFrame(rows, columns=CONTACT_COLUMNS)
    rest = frame.drop(columns=["person_id"]).reset_index(drop=True)
    out = pd.concat([front, rest], axis=1)
    if hashed:
        out.insert(1, "email_sha256", out["email"].map(email_hash))
        out = out.drop(columns=["name", "email", "phone"])
        out = out[out["email_sha256"] != ""]
    return out
