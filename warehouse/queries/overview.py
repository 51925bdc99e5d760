"""Headline figures of one site over recent days (the dashboard's first cards)."""

from __future__ import annotations

import datetime as dt

from warehouse.engine.connection import Warehouse

from . import kpis, zones


def summary(
    warehouse: Warehouse, site_id: str, days: int = 30, today: dt.date | None = None, timezone: str = "UTC"
) -> dict:
    """Events, people, orders and revenue of the last ``days`` days of ``timezone`` to ``today`` (its today by default).

    The KPI page's definitions (``kpis.totals``): for the same days both pages show the same figures.
    """
    today = today or zones.today(timezone)
    return kpis.totals(warehouse, site_id, today - dt.timedelta(days=days - 1), today, timezone)


def daily_events(
    warehouse: Warehouse, site_id: str, days: int = 30, timezone: str = "UTC", today: dt.date | None = None
) -> list[dict]:
    """Events per day of the site's time zone (an IANA name) over the last ``days`` days to ``today``,
    oldest first; days without events are absent.

    Whole local days, summed from the rows ``kpis.totals`` sums: the chart adds up to the cards.
    """
    today = today or zones.today(timezone)
    return warehouse.query(
        f"SELECT {kpis.DAY} AS day, sum(event_count) AS events FROM visit_slots "
        f"WHERE {kpis.SLOTS} GROUP BY day ORDER BY day",
        kpis.range_params(site_id, today - dt.timedelta(days=days - 1), today, None, timezone),
    )


def currency(warehouse: Warehouse, site_id: str) -> str:
    """The site's most used currency, for labelling revenue."""
    value = warehouse.scalar(
        "SELECT currency FROM events WHERE site_id = {site_id:String} AND currency != '' "
        "GROUP BY currency ORDER BY count() DESC LIMIT 1",
        {"site_id": site_id},
    )
    return value or ""
