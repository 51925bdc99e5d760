"""Raw events: the columns of a row, loading, and the basic reads."""

from __future__ import annotations

import datetime as dt
from operator import itemgetter

import pandas as pd

from warehouse.engine.connection import Warehouse

# Column name -> empty value; the collector fills rows with exactly these keys.
EVENT_COLUMNS: dict[str, object] = {
    "site_id": "",
    "message_id": "",
    "type": "",
    "event": "",
    "name": "",
    "anonymous_id": "",
    "user_id": "",
    "previous_id": "",
    "group_id": "",
    "timestamp": None,
    "timestamp_ms": 0,
    "original_timestamp": None,
    "sent_at": None,
    "received_at": None,
    "url": "",
    "path": "",
    "referrer": "",
    "title": "",
    "search": "",
    "user_agent": "",
    "ip": "",
    "locale": "",
    "utm_source": "",
    "utm_medium": "",
    "utm_campaign": "",
    "utm_term": "",
    "utm_content": "",
    "library_name": "",
    "library_version": "",
    "properties": "{}",
    "traits": "{}",
    "context": "{}",
    "product_id": "",
    "product_name": "",
    "category": "",
    "price": 0.0,
    "quantity": 0,
    "order_id": "",
    "revenue": 0.0,
    "currency": "",
    "query": "",
    "item_ids": [],
    "item_prices": [],
    "item_quantities": [],
    "score": None,
    "comment": "",
    "is_bot": 0,
    "flags": [],
}

_DTYPES = {"timestamp_ms": "uint16", "price": "float64", "quantity": "uint32", "revenue": "float64", "is_bot": "uint8"}
_TIMES = ("timestamp", "original_timestamp", "sent_at", "received_at")


def events_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts with naive UTC datetimes) as a frame both backends insert."""
    frame = pd.DataFrame(rows, columns=list(EVENT_COLUMNS))
    for column, dtype in _DTYPES.items():
        frame[column] = frame[column].astype(dtype)
    for column in _TIMES:
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    frame["score"] = frame["score"].astype("float64")
    return frame


_GETTERS = [(name, itemgetter(name)) for name in EVENT_COLUMNS]


def completed_row(row: dict) -> dict:
    """An events row as an earlier version spooled it, made whole: columns it lacks get their
    empty value, and times (the spool writes datetimes as text) are datetimes again. A time
    that does not read stays text, and ClickHouse refuses that row alone."""
    out = {**EVENT_COLUMNS, **row}
    for name in _TIMES:
        if isinstance(out[name], str):
            try:
                out[name] = dt.datetime.fromisoformat(out[name])
            except ValueError:
                pass
    return out


def event_columns(rows: list[dict]) -> dict[str, list]:
    """Rows as ``{column: values}``, every column of ``EVENT_COLUMNS`` (the loader's form of a pass:
    cheap to filter, slice and insert with ``insert_event_columns``)."""
    return {name: list(map(get, rows)) for name, get in _GETTERS}


def insert_event_columns(warehouse: Warehouse, columns: dict[str, list]) -> int:
    return warehouse.insert_columns("events", columns)


def known_message_ids(warehouse: Warehouse, site_id: str, message_ids: list[str]) -> set[str]:
    """Which of these ids are already loaded (the dedup lookup). The ids go as a
    table sent with the statement: a pass's 50,000 ids in one lookup."""
    if not message_ids:
        return set()
    rows = warehouse.query(
        "SELECT DISTINCT message_id FROM event_ids WHERE site_id = {site_id:String} AND message_id IN given_ids",
        {"site_id": site_id},
        tables={"given_ids": message_ids},
    )
    return {r["message_id"] for r in rows}


def loaded_since(warehouse: Warehouse, site_id: str, message_ids: list[str], since) -> set[str]:
    """Which of these ids are among the site's events received at or after ``since``, read from
    the events themselves. ``event_ids`` is filled by a view after the events' own write: a
    process killed between the two leaves events whose ids the dedup lookup does not know."""
    if not message_ids:
        return set()
    rows = warehouse.query(
        "SELECT DISTINCT message_id FROM events WHERE site_id = {site_id:String} "
        "AND received_at >= {since:DateTime('UTC')} AND message_id IN given_ids",
        {"site_id": site_id, "since": since},
        tables={"given_ids": message_ids},
    )
    return {r["message_id"] for r in rows}


def insert_events(warehouse: Warehouse, rows: list[dict]) -> int:
    return warehouse.insert("events", events_frame(rows)) if rows else 0


def count_events(warehouse: Warehouse, site_id: str) -> int:
    return int(
        warehouse.scalar("SELECT count() FROM events WHERE site_id = {site_id:String}", {"site_id": site_id}) or 0
    )


# Windows a newest-first read tries in turn, in days back from now; None is
# the whole history. The events' sort key starts (site_id, day): a window
# opens only its own days' granules, so a live site's newest events cost a
# day's rows, not the site's history.
RECENT_WINDOWS_DAYS = (1, 7, 31, None)


def newest_first(warehouse: Warehouse, select: str, where: str, order: str, params: dict, limit: int, offset: int = 0):
    """``SELECT select FROM events WHERE where ORDER BY order`` (newest first), one page,
    read from the smallest recent window that holds the whole page."""
    for days in RECENT_WINDOWS_DAYS:
        # Said twice: 18.16 prunes months by the time and granules by the key's own expression only.
        since = (
            ""
            if days is None
            else " AND timestamp >= now() - toIntervalDay({window_days:UInt32}) "
            "AND toDate(timestamp) >= toDate(now() - toIntervalDay({window_days:UInt32}))"
        )
        rows = warehouse.query(
            f"SELECT {select} FROM events WHERE {where}{since} ORDER BY {order} "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
            {**params, "window_days": days or 0, "limit": limit, "offset": offset},
        )
        if len(rows) >= limit or days is None:
            return rows


def recent_events(warehouse: Warehouse, site_id: str, limit: int = 50) -> list[dict]:
    return newest_first(
        warehouse,
        "message_id, type, event, name, anonymous_id, user_id, timestamp, url, properties",
        "site_id = {site_id:String}",
        "timestamp DESC, timestamp_ms DESC",
        {"site_id": site_id},
        limit,
    )
