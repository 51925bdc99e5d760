"""Quarantined messages: parsed, but refused by the schema; kept to be replayed."""

from __future__ import annotations

import time

import pandas as pd

from warehouse.engine.connection import Warehouse

COLUMNS = ["site_id", "quarantine_id", "received_at", "reason", "detail", "raw", "ip", "user_agent"]

_CURRENT = """
SELECT site_id, quarantine_id,
       any(received_at) AS received_at, any(reason) AS reason, any(detail) AS detail,
       any(raw) AS raw, any(ip) AS ip, any(user_agent) AS user_agent,
       argMax(replayed, version) AS replayed
FROM quarantine
WHERE ({site_id:String} = '' OR site_id = {site_id:String})
GROUP BY site_id, quarantine_id
"""


def insert_quarantined(warehouse: Warehouse, rows: list[dict], replayed: int = 0) -> int:
    """Store quarantined rows (dicts with ``COLUMNS``); ``replayed`` marks a new state."""
    if not rows:
        return 0
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["received_at"] = pd.to_datetime(frame["received_at"]).astype("datetime64[s]")
    frame["replayed"] = pd.Series([replayed] * len(frame), dtype="uint8")
    frame["version"] = pd.Series([time.time_ns()] * len(frame), dtype="uint64")
    return warehouse.insert("quarantine", frame)


def list_quarantined(
    warehouse: Warehouse, site_id: str = "", include_replayed: bool = False, limit: int = 100
) -> list[dict]:
    """Quarantined messages, newest first, of one site (or all when ``site_id`` is empty)."""
    return warehouse.query(
        "SELECT * FROM (" + _CURRENT + ") WHERE replayed <= {most:UInt8} "
        "ORDER BY received_at DESC, quarantine_id LIMIT {limit:UInt32}",
        {"site_id": site_id, "most": 1 if include_replayed else 0, "limit": int(limit)},
    )


def count_by_reason(warehouse: Warehouse, site_id: str = "") -> list[dict]:
    """Pending quarantined messages per site and reason."""
    return warehouse.query(
        "SELECT site_id, reason, count() AS messages FROM (" + _CURRENT + ") WHERE replayed = 0 "
        "GROUP BY site_id, reason ORDER BY site_id, reason",
        {"site_id": site_id},
    )
