"""Headline figures of one site over recent days (the dashboard's first cards)."""

from __future__ import annotations

from warehouse.engine.connection import Warehouse

_SINCE = "timestamp >= now() - toIntervalDay({days:UInt32})"


def summary(warehouse: Warehouse, site_id: str, days: int = 30) -> dict:
    """Events, distinct visitors, orders and revenue in the last ``days`` days."""
    rows = warehouse.query(
        "SELECT count() AS events, uniqExact(anonymous_id) AS visitors, "
        "uniqExactIf(order_id, event = 'Order Completed' AND order_id != '') AS orders, "
        "sumIf(revenue, event = 'Order Completed') AS revenue "
        f"FROM events WHERE site_id = {{site_id:String}} AND {_SINCE}",
        {"site_id": site_id, "days": days},
    )
    row = rows[0] if rows else {}
    return {
        "events": int(row.get("events") or 0),
        "visitors": int(row.get("visitors") or 0),
        "orders": int(row.get("orders") or 0),
        "revenue": float(row.get("revenue") or 0.0),
    }


def daily_events(warehouse: Warehouse, site_id: str, days: int = 30, timezone: str = "UTC") -> list[dict]:
    """Events per day of the site's time zone (an IANA name), oldest first; days without events are absent."""
    return warehouse.query(
        "SELECT toDate(toTimeZone(timestamp, {timezone:String})) AS day, count() AS events FROM events "
        f"WHERE site_id = {{site_id:String}} AND {_SINCE} GROUP BY day ORDER BY day",
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
