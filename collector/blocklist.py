"""Identities erased on request, held in memory: their new events are dropped.

Refreshed from the warehouse like the key cache. A dropped event is still
answered 200 (the tracker on the page must not retry it forever, and the
answer must not tell anyone who was erased); it is counted as ``blocked``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time

from warehouse import WarehouseError, erasure


class Blocklist:
    def __init__(self, warehouse, refresh_seconds: float = 10.0):
        self.warehouse = warehouse
        self.refresh_seconds = refresh_seconds
        self._blocked: set[tuple[str, str]] = set()
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        if time.monotonic() - self._loaded_at < self.refresh_seconds:
            return
        with self._lock:
            if time.monotonic() - self._loaded_at < self.refresh_seconds:
                return
            try:
                self._blocked = set(erasure.blocked_identities(self.warehouse))
            except WarehouseError:
                pass  # keep the last list; a missing table (not migrated yet) means nobody is blocked
            self._loaded_at = time.monotonic()

    def is_blocked(self, row: dict) -> bool:
        """Whether a warehouse row belongs to an erased identity."""
        self._refresh()
        if not self._blocked:
            return False
        site = row["site_id"]
        return any((site, identity) in self._blocked for identity in _identities(row))


def _identities(row: dict) -> list[str]:
    out = []
    for column, kind in (("anonymous_id", "anon:"), ("previous_id", "anon:"), ("user_id", "user:")):
        if row.get(column):
            out.append(kind + row[column])
    traits = row.get("traits") or "{}"
    if '"email"' in traits:
        try:
            email = json.loads(traits).get("email")
        except (ValueError, AttributeError):
            email = None
        if isinstance(email, str) and email.strip():
            out.append("email:" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest())
    return out
