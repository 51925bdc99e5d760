"""Loading imported rows (offline orders, customers) into the events table."""

from __future__ import annotations

from typing import Callable

from warehouse.engine.connection import Warehouse

from . import events

CHUNK = 50_000


def insert_new_events(warehouse: Warehouse, rows: list[dict], progress: Callable[[str], None] = lambda _: None) -> int:
    """Insert rows whose message id is not loaded yet (a re-import adds nothing)."""
    inserted = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        by_site: dict[str, list[str]] = {}
        for row in chunk:
            by_site.setdefault(row["site_id"], []).append(row["message_id"])
        known = {(s, m) for s, ids in by_site.items() for m in events.known_message_ids(warehouse, s, ids)}
        fresh = [r for r in chunk if (r["site_id"], r["message_id"]) not in known]
        inserted += events.insert_events(warehouse, fresh)
        progress(f"import: {min(start + CHUNK, len(rows))}/{len(rows)} rows checked, {inserted} new")
    return inserted
