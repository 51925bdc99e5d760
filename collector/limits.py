"""Per-site and per-client-IP rate limits (token buckets, per process).

Each key gets a bucket of ``rate`` requests a second that holds at most
``burst`` (one second's worth unless set). Limits are per collector process:
with N gunicorn workers the effective limit is up to N times the setting, which
is what a cheap, lock-light check can promise. A rate of 0 turns a limit off.
"""

from __future__ import annotations

import threading
import time

MAX_KEYS = 100_000


class RateLimiter:
    def __init__(self, rate: float, burst: float | None = None):
        self.rate = float(rate)
        self.burst = float(burst if burst else max(rate, 1.0))
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Take one token for ``key``; False when its bucket is empty."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            if len(self._buckets) >= MAX_KEYS and key not in self._buckets:
                self._forget_full(now)
            self._buckets[key] = (tokens - 1.0, now)
            return True

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled (they behave as new ones); keeps memory bounded."""
        full = [k for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate >= self.burst]
        for key in full or list(self._buckets)[: MAX_KEYS // 2]:
            del self._buckets[key]

    def retry_after(self) -> int:
        return max(1, int(1 / self.rate + 0.999)) if self.rate > 0 else 1
