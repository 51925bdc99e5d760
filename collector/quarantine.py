"""Replaying quarantined messages through today's pipeline.

A message lands in quarantine when it parses but breaks the schema. Once the
sender is fixed, or the rules have changed, ``basirat quarantine replay`` runs
each held message through the same validation and enrichment again: those
that pass are loaded (deduplicated on message id like any other), the rest
stay where they are.
"""

from __future__ import annotations

import datetime as dt
import json

from warehouse.queries import events, quarantine

from .loader import dedupe
from .pipeline import Rejected, to_row, validate


def _received(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None) if value.tzinfo else value
    return dt.datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S")


def replay(warehouse, config: dict, site_id: str = "", limit: int = 10000) -> dict:
    """Re-run held messages; returns counts of ``loaded``, ``duplicates`` and ``still_rejected``."""
    held = quarantine.list_quarantined(warehouse, site_id, limit=limit)
    rows, passed, failed = [], [], 0
    for item in held:
        try:
            msg = json.loads(item["raw"])
            row = to_row(
                validate(msg, config["MAX_MESSAGE_BYTES"]),
                item["site_id"],
                _received(item["received_at"]),
                item["ip"],
                item["user_agent"],
                config,
            )
        except (Rejected, ValueError):
            failed += 1
            continue
        rows.append(row)
        passed.append(item)
    fresh = dedupe(warehouse, rows)
    events.insert_events(warehouse, fresh)
    quarantine.insert_quarantined(
        warehouse, [{**item, "received_at": _received(item["received_at"])} for item in passed], replayed=1
    )
    return {"loaded": len(fresh), "duplicates": len(rows) - len(fresh), "still_rejected": failed}
