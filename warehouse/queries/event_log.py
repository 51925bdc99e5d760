"""Recent raw events of one site, newest first, filtered by type and event name.

Backs the admin's "Live events" page and the events API. An empty filter
means "any"; the filters are bound parameters like every other value.
"""

from __future__ import annotations

from warehouse.engine.connection import Warehouse

from .events import newest_first

COLUMNS = (
    "message_id, type, event, name, anonymous_id, user_id, timestamp, received_at, url, referrer, title, "
    "properties, traits, has(flags, 'claimed') AS claimed_user, is_bot, user_agent"
)
# ``bots``: "" any traffic, "hide" people only, "only" bots only (the collector's one ``is_bot`` flag,
# the same every dashboard, KPI and visitor figure leaves out).
_WHERE = (
    "site_id = {site_id:String} AND ({type:String} = '' OR type = {type:String}) "
    "AND ({event:String} = '' OR event = {event:String}) "
    "AND ({bots:String} = '' OR is_bot = if({bots:String} = 'only', 1, 0))"
)
BOT_FILTERS = ("hide", "only")


def _params(site_id: str, type_: str, event: str, bots: str = "") -> dict:
    return {"site_id": site_id, "type": type_, "event": event, "bots": bots if bots in BOT_FILTERS else ""}


def count(warehouse: Warehouse, site_id: str, type_: str = "", event: str = "", bots: str = "") -> int:
    params = _params(site_id, type_, event, bots)
    return int(warehouse.scalar(f"SELECT count() FROM events WHERE {_WHERE}", params) or 0)


def page(
    warehouse: Warehouse,
    site_id: str,
    limit: int,
    offset: int,
    type_: str = "",
    event: str = "",
    bots: str = "",
    oldest_first: bool = False,
) -> list[dict]:
    """Newest first, where a recent page reads only recent days (``events.newest_first``); or oldest first."""
    params = _params(site_id, type_, event, bots)
    if not oldest_first:
        return newest_first(
            warehouse, COLUMNS, _WHERE, "timestamp DESC, timestamp_ms DESC, message_id", params, limit, offset
        )
    return warehouse.query(
        f"SELECT {COLUMNS} FROM events WHERE {_WHERE} "
        "ORDER BY timestamp ASC, timestamp_ms ASC, message_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        {**params, "limit": limit, "offset": offset},
    )


def event_names(warehouse: Warehouse, site_id: str, limit: int = 100) -> list[str]:
    """The most frequent track event names, for the filter menu."""
    rows = warehouse.query(
        "SELECT event, count() AS n FROM events WHERE site_id = {site_id:String} AND event != '' "
        "GROUP BY event ORDER BY n DESC, event LIMIT {limit:UInt32}",
        {"site_id": site_id, "limit": limit},
    )
    return [r["event"] for r in rows]
