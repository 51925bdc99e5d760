"""Webhook subscriptions to segment moves, and the record of deliveries."""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pandas as pd

from warehouse.engine.connection import Warehouse

_CURRENT = """
SELECT webhook_id, argMax(url, version) AS url, argMax(secret, version) AS secret,
       argMax(segments, version) AS segments, min(created_at) AS created_at, argMax(deleted, version) AS deleted
FROM segment_webhooks
WHERE site_id = {site_id:String}
GROUP BY webhook_id
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)


def _write(warehouse: Warehouse, site_id: str, hook: dict, deleted: int = 0) -> None:
    row = {
        "site_id": site_id,
        "webhook_id": hook["webhook_id"],
        "url": hook["url"],
        "secret": hook["secret"],
        "segments": list(hook["segments"]),
        "created_at": hook.get("created_at") or _now(),
        "deleted": deleted,
        "version": time.time_ns(),
    }
    frame = pd.DataFrame([row]).astype({"deleted": "uint8", "version": "uint64", "created_at": "datetime64[s]"})
    warehouse.insert("segment_webhooks", frame)


def add_webhook(warehouse: Warehouse, site_id: str, url: str, segments: list[str]) -> dict:
    """Subscribe ``url`` to moves in ``segments`` (all segments when empty); returns the signing secret once."""
    hook = {
        "webhook_id": "wh_" + secrets.token_hex(6),
        "url": url,
        "secret": "whsec_" + secrets.token_urlsafe(24),
        "segments": segments,
    }
    _write(warehouse, site_id, hook)
    return hook


def list_webhooks(warehouse: Warehouse, site_id: str) -> list[dict]:
    rows = warehouse.query(
        f"SELECT * FROM ({_CURRENT}) WHERE deleted = 0 ORDER BY created_at, webhook_id", {"site_id": site_id}
    )
    return [{k: v for k, v in row.items() if k != "deleted"} for row in rows]


def remove_webhook(warehouse: Warehouse, site_id: str, webhook_id: str) -> bool:
    for hook in list_webhooks(warehouse, site_id):
        if hook["webhook_id"] == webhook_id:
            _write(warehouse, site_id, {**hook, "created_at": hook["created_at"].replace(tzinfo=None)}, deleted=1)
            return True
    return False


def record_deliveries(warehouse: Warehouse, rows: list[dict]) -> int:
    if not rows:
        return 0
    frame = pd.DataFrame(rows).astype(
        {"events": "uint32", "status": "uint16", "attempts": "uint8", "sent_at": "datetime64[s]"}
    )
    return warehouse.insert("webhook_deliveries", frame)
