"""Identities erased on request, held in memory: their new events are dropped.

Refreshed from the warehouse like the key cache. A dropped event is still
answered 200 (the tracker on the page must not retry it forever, and the
answer must not tell anyone who was erased); it is counted as ``blocked``.
"""

from __future__ import annotations

import hashlib
import threading
import time

from warehouse import WarehouseError
from warehouse.queries import erasure

from .metrics import METRICS


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

    def refresh(self) -> None:
        """Read the list now (the loader does, once per pass with rows)."""
        self._loaded_at = float("-inf")
        self._refresh()

    def kept(self, site_id: str, messages: list) -> list:
        """The messages that name no erased identity; the others are counted as ``blocked``."""
        self._refresh()
        if not messages or not self._blocked:
            return messages
        kept = [msg for msg in messages if not self.is_blocked(site_id, msg)]
        if len(kept) < len(messages):
            METRICS.count("blocked", len(messages) - len(kept))
        return kept

    def is_blocked(self, site_id: str, msg: dict) -> bool:
        """Whether a Segment message names an erased identity. Checked on the
        request, so an erased person's new events never reach the spool."""
        self._refresh()
        if not self._blocked:
            return False
        return any((site_id, identity) in self._blocked for identity in _identities(msg))


def _identities(msg: dict) -> list[str]:
    out = []
    for field, kind in (("anonymousId", "anon:"), ("previousId", "anon:"), ("userId", "user:")):
        value = msg.get(field)
        if value not in (None, "") and not isinstance(value, (dict, list, bool)):
            out.append(kind + str(value))
    traits = msg.get("traits")
    if not isinstance(traits, dict):
        context = msg.get("context")
        traits = context.get("traits") if isinstance(context, dict) else None
    email = traits.get("email") if isinstance(traits, dict) else None
    if isinstance(email, str) and email.strip():
        out.append("email:" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest())
    return out
