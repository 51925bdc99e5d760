"""Answers kept for repeated requests.

A storefront asks again on every page view, and between two events of a
visitor nothing that decides the answer changes: the key holds the site's
model generation, the request's parameters and the visitor's live session,
so any new event, model or stock change makes a new key rather than a stale
answer. Bounded; the oldest key goes first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class AnswerCache:
    def __init__(self, size: int = 50_000):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        return self._items.get(key)

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
