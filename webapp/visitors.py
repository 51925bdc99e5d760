"""Visitors: the list with search, one person's profile, manual merge and unmerge.

The profile data comes from ``warehouse.queries.people``; merge and unmerge go through
the stitching job's public functions so the page shows the new map at once,
and each is recorded with the signed-in user as actor.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.routing import PathConverter

from core import locales
from core.text import fold, matches
from core.useragent import browser_and_os
from warehouse.queries import directory as directory_store
from warehouse.queries import people
from warehouse.queries.timeline import naive

from .access import current_site, current_user, role_required, warehouse
from .directory import label, lookup
from .i18n import tag
from .pages import NavItem, paginate, sorting

bp = Blueprint("visitors", __name__)
NAV = [NavItem(_l("Visitors"), "visitors.index", order=20)]
MAX_QUERY = 256
PER_PAGE = 50
SEEN_WITHIN = ("1", "7", "30", "90")


class IdentityConverter(PathConverter):
    """Any tracked id in a URL path: ids come from the tracker, so they may hold
    newlines, a leading slash or ``//``, which the ``path`` converter refuses."""

    regex = r"[\s\S]+?"
    part_isolating = False


bp.record_once(lambda state: state.app.url_map.converters.setdefault("identity", IdentityConverter))


@bp.route("/s/<site_id>/visitors")
def index(site_id: str):
    site = current_site()
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    rows = search(site["site_id"], query) if query else None
    order = sorting(people.VISITOR_SORTS, "last_seen")
    buyers = request.args.get("buyers") == "1"
    days = int(request.args["days"]) if request.args.get("days") in SEEN_WITHIN else 0
    page, recent = None, None
    if not query:
        page = paginate(people.visitor_count(warehouse(), site["site_id"], buyers, days), per_page=PER_PAGE)
        recent = people.recent_visitors(
            warehouse(), site["site_id"], page.limit, page.offset, order.sort, order.descending, buyers, days
        )
    shown = rows if rows is not None else recent
    who = labels(site["site_id"], shown or [])
    args = {**({"buyers": 1} if buyers else {}), **({"days": days} if days else {})}
    return render_template(
        "visitors/index.html",
        query=query,
        rows=rows,
        recent=recent,
        who=who,
        page=page,
        sorting=order,
        args=args,
        sort_args=order.keep(args),
        buyers=buyers,
        days=days,
        seen_within=SEEN_WITHIN,
    )


def labels(site_id: str, rows: list[dict]) -> dict[str, dict]:
    """Each row's person as lists show them, by its person id: the stitched person's contact,
    else that of the one identity it stands for (one lookup for the page)."""
    raw = {r["person_id"]: r["identity"].partition(":")[2] for r in rows}
    found = lookup(site_id, list(raw) + list(raw.values()))
    out = {}
    for person, key in raw.items():
        contact = found.get(person) if found.get(person, {}).get("identities") else found.get(key)
        out[person] = contact
    return out


def search(site_id: str, query: str) -> list[dict]:
    """People matching the query as typed, then as folded (Persian or Arabic digits and letters typed
    for an order id, a phone or an email find what the store sent in Latin digits)."""
    rows = people.search(warehouse(), site_id, query)
    folded = fold(query)
    if folded and folded != query:
        seen = {r["person_id"] for r in rows}
        rows += [r for r in people.search(warehouse(), site_id, folded) if r["person_id"] not in seen]
    seen = {r["person_id"] for r in rows}
    return rows + [r for r in told(site_id, query) if r["person_id"] not in seen]


def told(site_id: str, query: str) -> list[dict]:
    """People whose name, email or phone (as they told the store) holds the query: every word of it,
    folded, or its digits (four or more) within the phone's digits."""
    folded = fold(query)
    words = sorted(folded.split(), key=len, reverse=True)
    digits = "".join(c for c in folded if c.isdigit())
    if not words:
        return []
    longest = sorted(query.split(), key=len, reverse=True)[0]
    out = {}
    for row in directory_store.find_told(warehouse(), site_id, longest, words[0], digits if len(digits) >= 4 else ""):
        if not (matches(query, row["text"]) or (len(digits) >= 4 and digits in row["digits"])):
            continue
        person = people.resolve(warehouse(), site_id, row["identity"])
        if person and person not in out:
            out[person] = {"person_id": person, "identity": row["identity"], "matched": "contact"}
    return list(out.values())


def _resolve(site_id: str, ref: str) -> tuple[str, str]:
    person = people.resolve(warehouse(), site_id, ref)
    if person is None:
        abort(404)
    return person, "" if ref.startswith("p_") else people.identity_of(ref)


@bp.route("/s/<site_id>/people/<identity:ref>", merge_slashes=False)
def show(site_id: str, ref: str):
    site = current_site()
    person, hint = _resolve(site["site_id"], ref)
    profile = people.profile(
        warehouse(), site["site_id"], person, hint, int(current_app.config["SESSION_TIMEOUT_MINUTES"])
    )
    records = _source_records(site["site_id"], [r["identity"] for r in profile["identities"]])
    key = ref.partition(":")[2] if ":" in ref else ref
    who = lookup(site["site_id"], [person, key])
    contact = who.get(person) if who.get(person, {}).get("identities") else who.get(key)
    contact = contact or _known_as(person, [r["identity"] for r in profile["identities"]])
    return render_template("visitors/show.html", profile=profile, ref=ref, records=records, contact=contact, now=_now())


def _known_as(person: str, identities: list[str]) -> dict:
    """A contact for a person the directory does not know yet (signed in minutes ago)."""
    found = {"key": person, "user_ids": [], "customer_ids": []}
    for identity in identities:
        kind, _sep, value = identity.partition(":")
        if kind in ("user", "customer"):
            found[kind + "_ids"].append(value)
    return {**found, "label": label(found)}


def _now():
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def split_duration(seconds: int) -> tuple[int, int, int]:
    """Hours, minutes and seconds of a visit's length."""
    seconds = max(int(seconds or 0), 0)
    return seconds // 3600, seconds % 3600 // 60, seconds % 60


@bp.app_template_filter("duration")
def duration(seconds: int) -> str:
    """A visit's length as people say it: seconds under a minute, minutes under an hour."""
    hours, minutes, rest = split_duration(seconds)
    if hours:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    if minutes:
        return _("%(minutes)s min %(seconds)s s", minutes=minutes, seconds=rest)
    return _("%(seconds)s s", seconds=rest)


def days_between(earlier, later) -> int:
    """Whole days from one time to a later one (0 on the same day or when either is missing)."""
    if earlier is None or later is None:
        return 0
    earlier, later = naive(earlier), naive(later)
    return max((later.date() - earlier.date()).days, 0)


@bp.app_template_filter("ago")
def ago(when, now) -> str:
    days = days_between(when, now)
    if not days:
        return _("today")
    return ngettext("%(days)s day ago", "%(days)s days ago", days, days=locales.number(days, tag()))


@bp.app_template_filter("agent")
def agent(user_agent: str) -> str:
    """Browser and operating system of a visit, e.g. "Firefox 128 on Windows 10"."""
    browser, system = browser_and_os(user_agent or "")
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system


def shown_identity(identity: str) -> str:
    """An identity as the profile shows it: emails stay hashed."""
    if identity.startswith("email:"):
        return _("an email (sha256 %(hash)s…)", hash=identity[6:18])
    kind, _sep, value = identity.partition(":")
    if kind == "user":
        return _("customer %(id)s", id=value)
    if kind == "customer":
        return _("imported customer %(id)s", id=value)
    if kind == "anon":
        return _("browser %(id)s", id=value[:24])
    if kind == "record":
        return _("customer record %(id)s", id=value)
    return identity


@bp.app_template_filter("evidence")
def evidence(row: dict) -> str:
    """Why an identity belongs to the person, in words: what linked it and to what."""
    reason, via = row.get("reason") or "", row.get("via") or ""
    other = shown_identity(via) if via else _("another identity")
    browser = row["identity"].startswith("anon:")
    if reason in ("login", "identify"):
        return _("signed in as %(who)s", who=other) if browser else _("signed in on %(who)s", who=other)
    if reason == "alias":
        return _("the store said it is %(who)s", who=other)
    if reason == "email":
        return _("same email as %(who)s", who=other)
    if reason == "import":
        return _("in an import, as %(who)s", who=other)
    if reason == "match":
        return _("customer record matched %(who)s", who=other)
    if reason == "manual":
        return _("merged by hand (see the audit trail)")
    return _("first seen")


def _source_records(site_id: str, identities: list[str]) -> list[dict]:
    """Each customer record of the person with the decided pairs that joined it (weight, agreeing fields)."""
    from warehouse.queries import matching

    found = matching.records_of(warehouse(), site_id, identities)
    if not found:
        return []
    mine = set(identities)
    pairs = [m for m in matching.matches_of(warehouse(), site_id, [r["uid"] for r in found]) if m["decision"] == "link"]
    for record in found:
        record["joined_by"] = [
            {**m, "other": m["b"] if m["a"] == record["uid"] else m["a"]}
            for m in pairs
            if record["uid"] in (m["a"], m["b"]) and {m["a"], m["b"]} <= mine
        ]
    return found


@bp.route("/s/<site_id>/visitors/job-results")
def job_results(site_id: str):
    """A person's segments, scores and recommendations, fetched by the profile page
    once it has shown the rest (``fragment=1``), or as a page of its own."""
    site = current_site()
    ref = request.args.get("ref", "")[:MAX_QUERY]
    person, hint = _resolve(site["site_id"], ref)
    who = people.identities(warehouse(), site["site_id"], person, hint)
    results = people.job_results(warehouse(), site["site_id"], person, who)
    page = "visitors/_job_results.html" if request.args.get("fragment") else "visitors/job_results.html"
    return render_template(page, results=results, person_id=person, ref=ref)


@bp.route("/s/<site_id>/people/<identity:ref>/merge", methods=["POST"], merge_slashes=False)
@role_required("admin")
def merge(site_id: str, ref: str):
    from mining.stitching import merge as merge_ids

    site = current_site()
    person, hint = _resolve(site["site_id"], ref)
    other = request.form.get("other", "").strip()[:MAX_QUERY]
    target = people.resolve(warehouse(), site["site_id"], other) if other else None
    if target is None:
        flash(_("No visitor “%(other)s” on this site.", other=other), "error")
        return redirect(url_for("visitors.show", site_id=site["site_id"], ref=ref))
    mine = _main_identity(people.identities(warehouse(), site["site_id"], person, hint))
    merge_ids(
        warehouse(),
        site["site_id"],
        mine,
        people.identity_of(other),
        _actor(),
        _note(),
        int(current_app.config["IDENTITY_MAX_IDS"]),
    )
    flash(_("Merged. The change is in the audit trail."), "success")
    return redirect(url_for("visitors.show", site_id=site["site_id"], ref=people.identity_of(other)))


@bp.route("/s/<site_id>/people/<identity:ref>/unmerge", methods=["POST"], merge_slashes=False)
@role_required("admin")
def unmerge(site_id: str, ref: str):
    from mining.stitching import unmerge as unmerge_id

    site = current_site()
    person, hint = _resolve(site["site_id"], ref)
    identity = request.form.get("identity", "")
    owned = {r["identity"] for r in people.identities(warehouse(), site["site_id"], person, hint)}
    if identity not in owned:
        abort(404)
    try:
        unmerge_id(
            warehouse(), site["site_id"], identity, _actor(), _note(), int(current_app.config["IDENTITY_MAX_IDS"])
        )
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("visitors.show", site_id=site["site_id"], ref=ref))
    flash(
        _("%(identity)s was taken out of this person. The change is in the audit trail.", identity=identity), "success"
    )
    return redirect(url_for("visitors.show", site_id=site["site_id"], ref=identity))


def _main_identity(rows: list[dict]) -> str:
    """The identity that stands for a person: a known customer first, else the earliest."""
    known = [r["identity"] for r in rows if r["identity"].startswith(("user:", "customer:"))]
    return (known or [r["identity"] for r in rows])[0]


def _actor() -> str:
    user = current_user() or {}
    return str(user.get("email", "admin"))


def _note() -> str:
    return request.form.get("note", "").strip()[:500]
