"""The visitor's live session, held in memory.

The endpoint must not query the warehouse per request, yet it must score the
session a visitor is in right now. A tail thread reads the events loaded in
the last moments (one cheap query a second, filtered by ``received_at``) and
appends them to a small per-visitor buffer. The same design serves both
deployments: in the embedded process the query runs in-process, in production
every endpoint process tails the server; no arrow from the recommender into
the collector is needed, and only durably stored events are ever used.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict, deque

from warehouse.queries import recommendations as store

KINDS = {
    "Product Viewed": "view",
    "Product Clicked": "view",
    "Product Added": "cart",
    "Product Removed": "removed",
    "Order Completed": "purchase",
}


class LiveSessions:
    """Recent (time, kind, item) per visitor, bounded in visitors and events."""

    def __init__(self, timeout_minutes: float = 30.0, max_visitors: int = 200_000, per_visitor: int = 50):
        self.timeout = timeout_minutes * 60.0
        self.max_visitors = max_visitors
        self.per_visitor = per_visitor
        self._visitors: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def add(self, site_id: str, visitor: str, when: float, kind: str, item: str) -> None:
        if not visitor or not item:
            return
        key = (site_id, visitor)
        with self._lock:
            events = self._visitors.get(key)
            if events is None:
                events = self._visitors[key] = deque(maxlen=self.per_visitor)
                if len(self._visitors) > self.max_visitors:
                    self._visitors.popitem(last=False)
            else:
                self._visitors.move_to_end(key)
            events.append((when, kind, item))

    def session(self, site_id: str, *visitors: str, now: float | None = None) -> list[tuple[float, str, str]]:
        """Events of the current visit (no gap longer than the timeout), oldest first."""
        merged = []
        for visitor in visitors:
            if visitor:
                merged.extend(self._visitors.get((site_id, visitor), ()))
        if not merged:
            return []
        merged.sort()
        now = time.time() if now is None else now
        if now - merged[-1][0] > self.timeout:
            return []
        start = len(merged) - 1
        while start > 0 and merged[start][0] - merged[start - 1][0] <= self.timeout:
            start -= 1
        return merged[start:]


class Tail:
    """Feeds ``LiveSessions`` from events the loader has stored."""

    def __init__(self, warehouse, sessions: LiveSessions, overlap_seconds: int = 3):
        self.warehouse = warehouse
        self.sessions = sessions
        self.overlap = overlap_seconds
        self._since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=sessions.timeout)
        self._seen: dict[str, int] = {}

    def __call__(self) -> int:
        rows = store.recent_events(self.warehouse, self._since - dt.timedelta(seconds=self.overlap))
        added = 0
        for row in rows:
            if row["message_id"] in self._seen:
                continue
            self._seen[row["message_id"]] = row["received"]
            added += self._add(row)
            self._since = max(self._since, dt.datetime.fromtimestamp(row["received"], dt.timezone.utc))
        horizon = int(self._since.timestamp()) - self.overlap - 1
        self._seen = {m: r for m, r in self._seen.items() if r >= horizon}
        return added

    def _add(self, row: dict) -> int:
        kind = KINDS[row["event"]]
        items = row["item_ids"] if kind == "purchase" else [row["product_id"]]
        for item in items:
            for visitor in (
                "a:" + row["anonymous_id"] if row["anonymous_id"] else "",
                "u:" + row["user_id"] if row["user_id"] and not row.get("claimed") else "",
            ):
                self.sessions.add(row["site_id"], visitor, float(row["time"]), kind, item)
        return len(items)
