"""Headline figures of one site over recent days (the dashboard's first cards)."""

from __future__ import annotations

import datetime as dt

from warehouse.engine.connection import Warehouse

from . import kpis

_SINCE = "timestamp >= now() - toIntervalDay({days:UInt32})"


def summary(warehouse: Warehouse, site_id: str, days: int = 30, today: dt.date | None = None) -> dict:
    """Events, people, orders and revenue of the last ``days`` days to ``today`` (UTC's by default).

    The KPI page's definitions (``kpis.totals``): for the same days both pages show the same figures.
    """
    today = today or dt.datetime.now(dt.timezone.utc).date()
    return kpis.totals(warehouse, site_id, today - dt.timedelta(days=days - 1), today)


def daily_events(warehouse: Warehouse, site_id: str, days: int = 30, timezone: str = "UTC") -> list[dict]:
    """Events per day of the site's time zone (an IANA name), oldest first; days without events are absent.

    Bots are left out, as on every figure (``visit_days`` keeps none).
    """
    return warehouse.query(
        "SELECT toDate(toTimeZone(timestamp, {timezone:String})) AS day, count() AS events FROM events "
        f"WHERE site_id = {{site_id:String}} AND is_bot = 0 AND {_SINCE} GROUP BY day ORDER BY day",
        {"site_id": site_id, "days": days, "timezone": timezone},
    )


def currency(warehouse: Warehouse, site_id: str) -> str:
    """The site's most used currency, for labelling revenue."""
    value = warehouse.scalar(
        "SELECT currency FROM events WHERE site_id = {site_id:String} AND currency != '' "
        "GROUP BY currency ORDER BY count() DESC LIMIT 1",
        {"site_id": site_id},
    )
    return value or ""
