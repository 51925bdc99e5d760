"""Recent raw events of one site, newest first, filtered by type and event name.

Backs the admin's "Live events" page and the events API. An empty filter
means "any"; the filters are bound parameters like every other value.
"""

from __future__ import annotations

from warehouse.engine.connection import Warehouse

from .events import newest_first

COLUMNS = (
    "message_id, type, event, name, anonymous_id, user_id, timestamp, received_at, url, referrer, title, "
    "properties, traits, has(flags, 'claimed') AS claimed_user"
)
_WHERE = (
    "site_id = {site_id:String} AND ({type:String} = '' OR type = {type:String}) "
    "AND ({event:String} = '' OR event = {event:String})"
)


def _params(site_id: str, type_: str, event: str) -> dict:
    return {"site_id": site_id, "type": type_, "event": event}


def count(warehouse: Warehouse, site_id: str, type_: str = "", event: str = "") -> int:
    return int(warehouse.scalar(f"SELECT count() FROM events WHERE {_WHERE}", _params(site_id, type_, event)) or 0)


def page(warehouse: Warehouse, site_id: str, limit: int, offset: int, type_: str = "", event: str = "") -> list[dict]:
    """Newest first; a recent page reads only recent days (``events.newest_first``)."""
    return newest_first(
        warehouse,
        COLUMNS,
        _WHERE,
        "timestamp DESC, timestamp_ms DESC, message_id",
        _params(site_id, type_, event),
        limit,
        offset,
    )


def event_names(warehouse: Warehouse, site_id: str, limit: int = 100) -> list[str]:
    """The most frequent track event names, for the filter menu."""
    rows = warehouse.query(
        "SELECT event, count() AS n FROM events WHERE site_id = {site_id:String} AND event != '' "
        "GROUP BY event ORDER BY n DESC, event LIMIT {limit:UInt32}",
        {"site_id": site_id, "limit": limit},
    )
    return [r["event"] for r in rows]
