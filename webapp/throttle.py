"""Login throttling: too many failures per account or per address lock it out.

Counts live in the process (``basirat serve`` is one process); a window of
failures older than ``window`` seconds is forgotten. A success clears the
account's count, never the address's, so one known password cannot be used to
reset guessing on others.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class Throttle:
    def __init__(self, per_account: int = 5, per_ip: int = 20, window: float = 900.0, clock=time.monotonic):
        self.limits = {"account": per_account, "ip": per_ip}
        self.window = window
        self.clock = clock
        self._failures: dict[tuple[str, str], deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str]) -> deque:
        times = self._failures[key]
        while times and times[0] < self.clock() - self.window:
            times.popleft()
        return times

    def retry_after(self, account: str, ip: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        wait = 0.0
        with self._lock:
            for kind, value in (("account", account), ("ip", ip)):
                times = self._recent((kind, value))
                if len(times) >= self.limits[kind]:
                    wait = max(wait, times[0] + self.window - self.clock())
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, account: str, ip: str) -> None:
        with self._lock:
            now = self.clock()
            self._failures[("account", account)].append(now)
            self._failures[("ip", ip)].append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._failures.pop(("account", account), None)
