"""Tiny factories for warehouse rows used by the customer-view tests."""

from __future__ import annotations

import datetime as dt
import itertools
import json

from warehouse.queries import events

_SEQ = itertools.count()
T0 = dt.datetime(2026, 3, 2, 9, 0, 0)


def event(site_id: str, minute: float, anon: str = "a1", **fields) -> dict:
    """One event row ``minute`` minutes after T0; ``received`` sets received_at."""
    when = T0 + dt.timedelta(minutes=minute)
    received = fields.pop("received", when)
    row = {k: (list(v) if isinstance(v, list) else v) for k, v in events.EVENT_COLUMNS.items()}
    row.update(
        site_id=site_id,
        message_id=f"m{next(_SEQ)}",
        type="track",
        event="Product Viewed",
        anonymous_id=anon,
        timestamp=when,
        original_timestamp=when,
        sent_at=when,
        received_at=received,
    )
    for key in ("traits", "properties", "context"):
        if isinstance(fields.get(key), dict):
            fields[key] = json.dumps(fields[key], separators=(",", ":"))
    row.update(fields)
    return row


def page(site_id: str, minute: float, anon: str = "a1", path: str = "/", **fields) -> dict:
    return event(site_id, minute, anon, type="page", event="", path=path, url=f"https://shop.example{path}", **fields)


def load(warehouse, rows: list[dict]) -> None:
    events.insert_events(warehouse, rows)
