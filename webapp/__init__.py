"""The admin web app.

Page families are blueprint modules listed in ``PAGES``; each declares its
navigation next to its routes (see webapp/README.md). The core here only wires
security, access checks, errors and the layout's shared context.
"""

from __future__ import annotations

import importlib
import logging

from flask import Flask, g, redirect, request, session, url_for

from core import settings
from core.apps import new_app

from . import access, errors, i18n, security
from .pages import NavItem

log = logging.getLogger(__name__)

# Add a page family: create webapp/<name>.py (``bp`` and ``NAV``) and list it here.
PAGES = [
    "auth",
    "dashboard",
    "sites",
    "users",
    "visitors",
    "customers",
    "sources",
    "insights",
    "builder",
    "drilldowns",
    "recommendations",
    "events",
    "tokens",
    "api",
]


def create_app(test_config: dict | None = None, warehouse=None) -> Flask:
    app, warehouse = new_app(__name__, test_config, warehouse)
    app.extensions["basirat.warehouse"] = warehouse
    if not app.config.get("COLLECTOR_URL"):
        log.warning(
            "BASIRAT_COLLECTOR_URL is not set: tracking snippets point stores at %s; "
            "set it to the collector's public URL (https://collector.example)",
            settings.collector_url(app.config),
        )
    from .throttle import Throttle

    app.extensions["basirat.throttle"] = Throttle()
    security.install(app)
    access.install(app)
    errors.install(app)
    i18n.install(app)
    nav: list[NavItem] = []
    for name in PAGES:
        module = importlib.import_module(f"{__name__}.{name}")
        app.register_blueprint(module.bp)
        nav.extend(getattr(module, "NAV", []))
    app.extensions["basirat.nav"] = sorted(nav, key=lambda item: (item.order, str(item.label)))
    app.context_processor(_layout_context)
    app.add_url_rule("/", "home", _home)
    return app


def _home():
    """Straight to the last site's dashboard, or to the sites list."""
    sites = access.visible_sites()
    ids = [s["site_id"] for s in sites]
    if not ids:
        return redirect(url_for("sites.index"))
    site_id = session.get("site_id") if session.get("site_id") in ids else ids[0]
    return redirect(url_for("dashboard.index", site_id=site_id))


def _switch_url(site_id: str) -> str:
    """The same page for another site when the page only needs a site, else its dashboard."""
    args = request.view_args or {}
    if request.endpoint and set(args) == {"site_id"}:
        return url_for(request.endpoint, site_id=site_id)
    return url_for("dashboard.index", site_id=site_id)


def _mark_active(items: list[dict]) -> None:
    """The entry for this endpoint or covering it, else the first entry of this page family."""
    exact = [i for i in items if request.endpoint in (i["endpoint"], *i["covers"])]
    family = [i for i in items if request.blueprint and i["endpoint"].split(".")[0] == request.blueprint]
    for item in (exact or family)[:1]:
        item["active"] = True


def _layout_context() -> dict:
    from flask import current_app

    user = g.get("user")
    if user is None:
        return {"user": None, "nav": [], "site": None, "sites": []}
    site = g.get("site")
    sites = access.visible_sites(user)
    if site is None and sites:
        chosen = session.get("site_id")
        site = next((s for s in sites if s["site_id"] == chosen), sites[0])
    items = []
    for item in current_app.extensions["basirat.nav"]:
        if item.role and user["role"] != item.role:
            continue
        if item.site_scoped and site is None:
            continue
        url = url_for(item.endpoint, site_id=site["site_id"]) if item.site_scoped else url_for(item.endpoint)
        items.append(
            {"label": str(item.label), "url": url, "endpoint": item.endpoint, "covers": item.covers, "active": False}
        )
    _mark_active(items)
    switch = [{"site": s, "url": _switch_url(s["site_id"])} for s in sites]
    return {"user": user, "nav": items, "site": site, "sites": switch}
