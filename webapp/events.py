"""Live events: the newest raw events of a site, to check that tracking works.

Every value on this page was sent by a stranger's browser: it is rendered as
escaped text, properties are pretty-printed JSON in a ``<pre>``, and a URL
becomes a link only when it is http(s) (``http_url``), because an escaped
``javascript:`` URL in an ``href`` still runs.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from core.events import TYPES
from warehouse.queries import event_log

from .access import current_site, warehouse
from .directory import lookup
from .pages import NavItem, paginate, sorting

bp = Blueprint("events", __name__)
NAV = [NavItem(_l("Live events"), "events.index", order=15)]
PER_PAGE = 50


def http_url(value: str) -> str | None:
    """The URL when it is an absolute http(s) URL, else None (show it as text)."""
    try:
        parts = urlsplit(value or "")
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and value == value.strip():
        return value
    return None


def pretty(text: str) -> str:
    """A JSON object string indented for reading; '' for an empty object."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return text
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) if value else ""


@bp.app_template_filter("http_url")
def _http_url_filter(value: str) -> str | None:
    return http_url(value)


@bp.route("/s/<site_id>/events")
def index(site_id: str):
    site = current_site()
    type_ = request.args.get("type", "")
    type_ = type_ if type_ in TYPES else ""
    event = request.args.get("event", "")[:256]
    bots = request.args.get("bots", "")
    bots = bots if bots in event_log.BOT_FILTERS else ""
    order = sorting(("time",), "time")
    total = event_log.count(warehouse(), site["site_id"], type_, event, bots)
    page = paginate(total, per_page=PER_PAGE)
    rows = event_log.page(
        warehouse(), site["site_id"], page.limit, page.offset, type_, event, bots, oldest_first=not order.descending
    )
    for row in rows:
        row["properties_text"], row["traits_text"] = pretty(row["properties"]), pretty(row["traits"])
    names = event_log.event_names(warehouse(), site["site_id"])
    filters = {"type": type_, "event": event, "bots": bots}
    # A user id a browser only claimed names nobody: such a row is its browser's.
    for row in rows:
        row["who"] = row["user_id"] if row["user_id"] and not row["claimed_user"] else row["anonymous_id"]
    people = lookup(site["site_id"], {r["who"] for r in rows})
    return render_template(
        "events/index.html",
        rows=rows,
        page=page,
        types=TYPES,
        names=names,
        filters=filters,
        people=people,
        sorting=order,
        args={k: v for k, v in filters.items() if v},
    )
