"""Sites: list, create with domains, keys and the tracking snippet, key rotation, identity verification."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import calendars, settings
from warehouse.queries import display as display_store
from warehouse.queries import sites as site_store
from warehouse.queries.install import install_status

from .access import current_site, role_required, visible_sites, warehouse
from .i18n import site_display
from .pages import NavItem, paginate, sort_rows, sorting

bp = Blueprint("sites", __name__)
NAV = [
    NavItem(_l("Settings"), "sites.show", order=80),
    NavItem(_l("All sites"), "sites.index", order=90, site_scoped=False, covers=("sites.create",)),
]
KEYS = {
    "write_key": _l("write key"),
    "public_key": _l("public key"),
    "server_key": _l("server key"),
    "identity_secret": _l("identity secret"),
}
# Kept on the store's server: shown to admins only.
SECRETS = ("server_key", "identity_secret")
AFTER_ROTATION = {
    "write_key": _l("Update the store's pages before events are lost."),
    "public_key": _l("Update the storefront before its recommendation calls fail."),
    "server_key": _l("Update the store's server-side libraries before their events are refused."),
    "identity_secret": _l("Until the store's server signs with the new secret, sign-ins count as claims."),
}
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$)({_LABEL}\.)*{_LABEL}(:\d{{1,5}})?$")


def parse_domains(text: str) -> list[str]:
    """Domains from a comma/space/newline separated field, lower-cased; ValueError names a bad one."""
    found = []
    for part in re.split(r"[\s,]+", text.strip().lower()):
        part = part.removeprefix("https://").removeprefix("http://").rstrip("/")
        if not part:
            continue
        if not _DOMAIN.match(part):
            raise ValueError(_("“%(part)s” is not a domain name (like shop.example.com)", part=part))
        if part not in found:
            found.append(part)
    return found


def collector_url() -> str:
    """The configured public URL of the collector (never the request's Host header)."""
    from flask import current_app

    return settings.collector_url(current_app.config)


SITE_SORTS = {"name": lambda s: s["name"].lower(), "created": lambda s: s["created_at"]}


@bp.route("/sites")
def index():
    order = sorting(SITE_SORTS, "name", descending=False)
    sites = sort_rows(visible_sites(), order, SITE_SORTS)
    page = paginate(len(sites), per_page=25)
    rows = sites[page.offset : page.offset + page.limit]
    return render_template("sites/index.html", rows=rows, page=page, sorting=order)


@bp.route("/sites/new", methods=["GET", "POST"])
@role_required("admin")
def create():
    name = request.form.get("name", "").strip()
    domains_text = request.form.get("domains", "")
    if request.method == "POST":
        try:
            if not name or len(name) > 200:
                raise ValueError(_("A site needs a name (at most 200 characters)."))
            domains = parse_domains(domains_text)
        except ValueError as exc:
            flash(str(exc), "error")
            return render_template("sites/new.html", name=name, domains=domains_text), 400
        site = site_store.create_site(warehouse(), name, domains)
        flash(_("Site %(name)s created. Paste the snippet below into every page of the store.", name=name), "success")
        return redirect(url_for("sites.show", site_id=site["site_id"]))
    return render_template("sites/new.html", name=name, domains=domains_text)


@bp.route("/s/<site_id>/settings")
def show(site_id: str):
    site = current_site()
    url = collector_url()
    snippet = f'<script async src="{url}/t.js" data-write-key="{site["write_key"]}" data-host="{url}"></script>'
    status = install_status(warehouse(), site["site_id"])
    return render_template(
        "sites/show.html",
        snippet=snippet,
        keys=KEYS,
        secrets=SECRETS,
        status=status,
        display=site_display(),
        timezones=calendars.timezones(),
        currencies=CURRENCIES,
    )


@bp.route("/s/<site_id>/settings/install")
def install(site_id: str):
    """The installation check alone, for the settings page to refresh while the first events arrive."""
    site = current_site()
    return render_template("sites/_install.html", status=install_status(warehouse(), site["site_id"]))


@bp.route("/s/<site_id>/settings/domains", methods=["POST"])
@role_required("admin")
def update_domains(site_id: str):
    site = current_site()
    try:
        domains = parse_domains(request.form.get("domains", ""))
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("sites.show", site_id=site["site_id"]))
    site_store.update_site(warehouse(), site["site_id"], domains=domains)
    flash(_("Domains saved."), "success")
    return redirect(url_for("sites.show", site_id=site["site_id"]))


@bp.route("/s/<site_id>/settings/identity", methods=["POST"])
@role_required("admin")
def update_identity(site_id: str):
    """Whether identifies without a userHash are taken on trust (the site's opt-in; off by default)."""
    site = current_site()
    trust = request.form.get("trust_unsigned") == "1"
    if trust and request.form.get("confirm") != site["name"]:
        flash(_("Type the site's name exactly to trust unsigned identifies."), "error")
        return redirect(url_for("sites.show", site_id=site["site_id"]))
    site_store.update_site(warehouse(), site["site_id"], trust_unsigned=int(trust))
    if trust:
        flash(_("Unsigned identifies are trusted: any visitor can now claim to be any customer."), "error")
    else:
        flash(
            _("Only identifies signed by the store's server (or sent with the server key) link customers."), "success"
        )
    return redirect(url_for("sites.show", site_id=site["site_id"]))


@bp.route("/s/<site_id>/keys/<which>/rotate", methods=["GET", "POST"])
@role_required("admin")
def rotate(site_id: str, which: str):
    site = current_site()
    if which not in KEYS:
        abort(404)
    if request.method == "POST":
        if request.form.get("confirm") != site["name"]:
            flash(_("Type the site's name exactly to confirm."), "error")
            return render_template("sites/rotate.html", which=which, label=KEYS[which]), 400
        created = not site[which]
        site_store.rotate_key(warehouse(), site["site_id"], which)
        if created:
            flash(_("The %(key)s was created.", key=KEYS[which]), "success")
        else:
            flash(_("The %(key)s was replaced.", key=KEYS[which]) + " " + str(AFTER_ROTATION[which]), "success")
        return redirect(url_for("sites.show", site_id=site["site_id"]))
    return render_template("sites/rotate.html", which=which, label=KEYS[which])


# Offered on the settings page; any ISO 4217 code is accepted.
CURRENCIES = ("IRR", "EUR", "USD", "GBP", "AED", "TRY")


def parse_display(form) -> dict:
    """Calendar, time zone, currency and money unit from the settings form; ValueError names a bad one."""
    values = {
        "calendar": form.get("calendar", ""),
        "timezone": form.get("timezone", "").strip(),
        "currency": form.get("currency", "").strip().upper(),
        "money_unit": form.get("money_unit", ""),
    }
    if values["calendar"] not in calendars.CALENDARS:
        raise ValueError(_("Choose a calendar from the list."))
    try:
        calendars.check_timezone(values["timezone"])
    except ValueError:
        zone = values["timezone"]
        raise ValueError(_("“%(zone)s” is not a time zone name (like Asia/Tehran or UTC).", zone=zone)) from None
    if values["currency"] and not re.fullmatch(r"[A-Z]{3}", values["currency"]):
        raise ValueError(_("“%(code)s” is not a currency code (like IRR or EUR).", code=values["currency"]))
    if values["money_unit"] not in ("", "rial", "toman") or (values["money_unit"] and values["currency"] != "IRR"):
        values["money_unit"] = ""
    return values


@bp.route("/s/<site_id>/settings/display", methods=["POST"])
@role_required("admin")
def update_display(site_id: str):
    """The site's calendar, time zone and currency, which every page of the site shows figures in."""
    site = current_site()
    try:
        values = parse_display(request.form)
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("sites.show", site_id=site["site_id"], _anchor="display"))
    display_store.save_site_display(warehouse(), site["site_id"], values)
    flash(_("Dates, time zone and currency saved."), "success")
    return redirect(url_for("sites.show", site_id=site["site_id"], _anchor="display"))
