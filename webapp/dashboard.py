"""The site dashboard: last 30 days' headline figures and daily events."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import calendars
from warehouse.queries import overview

from .access import current_site, warehouse
from .i18n import site_display
from .pages import NavItem

bp = Blueprint("dashboard", __name__)
NAV = [NavItem(_l("Dashboard"), "dashboard.index", order=10)]
DAYS = 30


def daily_counts(rows: list[dict], days: int, today: dt.date | None = None) -> list[tuple[dt.date, int]]:
    """Every day of the window up to ``today`` (the site's; UTC by default), oldest first, with its count."""
    counts = {str(r["day"]): int(r["events"]) for r in rows}
    today = today or dt.datetime.now(dt.timezone.utc).date()
    span = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    return [(d, counts.get(str(d), 0)) for d in span]


def _daily_chart(rows: list[dict], days: int, today: dt.date) -> dict:
    """The window as a chart data block."""
    epoch = dt.date(1970, 1, 1)
    span = daily_counts(rows, days, today)
    return {
        "kind": "bars",
        "x_label": _("Day"),
        "x": [(d - epoch).days * 86400 for d, _n in span],
        "series": [{"label": _("Events"), "values": [n for _d, n in span]}],
    }


@bp.route("/s/<site_id>/")
def index(site_id: str):
    site = current_site()
    timezone = site_display()["timezone"]
    figures = overview.summary(warehouse(), site["site_id"], DAYS, calendars.today(timezone), timezone)
    daily = overview.daily_events(warehouse(), site["site_id"], DAYS, timezone, calendars.today(timezone))
    chart = _daily_chart(daily, DAYS, calendars.today(timezone))
    currency = overview.currency(warehouse(), site["site_id"])
    return render_template(
        "dashboard/index.html", figures=figures, chart=chart, days=DAYS, currency=currency, timezone=timezone
    )
