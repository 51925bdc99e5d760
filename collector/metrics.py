"""Counters of the ingestion path, readable as Prometheus text."""

from __future__ import annotations

import threading
from collections import Counter


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.counters: Counter = Counter()
        self.rejected: Counter = Counter()
        self.last_insert_seconds = 0.0

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] += n

    def reject(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self.rejected[reason] += n

    def observe_insert(self, seconds: float, rows: int, duplicates: int) -> None:
        with self._lock:
            self.counters["loaded_rows"] += rows
            self.counters["duplicates_dropped"] += duplicates
            self.counters["inserts"] += 1
            self.last_insert_seconds = seconds

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "counters": dict(self.counters),
                "rejected": dict(self.rejected),
                "last_insert_seconds": self.last_insert_seconds,
            }

    def prometheus(self, extra: dict[str, float] | None = None) -> str:
        snap = self.snapshot()
        lines = []
        for name, value in sorted(snap["counters"].items()):
            lines += [f"# TYPE basirat_{name}_total counter", f"basirat_{name}_total {value}"]
        lines.append("# TYPE basirat_rejected_total counter")
        for reason, value in sorted(snap["rejected"].items()):
            lines.append(f'basirat_rejected_total{{reason="{reason}"}} {value}')
        lines += ["# TYPE basirat_insert_seconds gauge", f"basirat_insert_seconds {snap['last_insert_seconds']}"]
        for name, value in sorted((extra or {}).items()):
            lines += [f"# TYPE basirat_{name} gauge", f"basirat_{name} {value}"]
        return "\n".join(lines) + "\n"


METRICS = Metrics()
