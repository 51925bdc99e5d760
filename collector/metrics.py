"""Counters of the ingestion path, readable as Prometheus text.

Each process counts in memory and, at most once a second, writes its counts
to ``<spool>/metrics/<pid>.json``; ``/metrics`` adds up every process's file,
so the figures are whole under several gunicorn workers and a separate loader
process (counts of a process that has exited stay in, as counters should).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter

INSERT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PERSIST_SECONDS = 1.0


class Metrics:
    def __init__(self):
        self._lock = threading.Lock()
        self.counters: Counter = Counter()
        self.rejected: Counter = Counter()
        self.insert_buckets: Counter = Counter()
        self.insert_seconds_sum = 0.0
        self._persisted_at = 0.0

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
            self.insert_seconds_sum += seconds
            for bound in INSERT_BUCKETS:
                if seconds <= bound:
                    self.insert_buckets[str(bound)] += 1

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "counters": dict(self.counters),
                "rejected": dict(self.rejected),
                "insert_buckets": dict(self.insert_buckets),
                "insert_seconds_sum": self.insert_seconds_sum,
            }

    # -- several processes ------------------------------------------------------

    def persist(self, directory: str, force: bool = False) -> None:
        """Write this process's counts where ``/metrics`` of any process finds them."""
        now = time.monotonic()
        if not force and now - self._persisted_at < PERSIST_SECONDS:
            return
        self._persisted_at = now
        folder = os.path.join(directory, "metrics")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{os.getpid()}.json")
        with open(path + ".tmp", "w") as fh:
            json.dump(self.snapshot(), fh)
        os.replace(path + ".tmp", path)

    def combined(self, directory: str) -> dict:
        """This process's live counts plus every other process's last written ones."""
        total = _empty()
        _add(total, self.snapshot())
        folder = os.path.join(directory, "metrics")
        mine = f"{os.getpid()}.json"
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            if name.endswith(".json") and name != mine:
                try:
                    with open(os.path.join(folder, name)) as fh:
                        _add(total, json.load(fh))
                except (OSError, ValueError):
                    continue
        return total


def _empty() -> dict:
    return {"counters": Counter(), "rejected": Counter(), "insert_buckets": Counter(), "insert_seconds_sum": 0.0}


def _add(total: dict, snap: dict) -> None:
    for key in ("counters", "rejected", "insert_buckets"):
        total[key].update(snap.get(key, {}))
    total["insert_seconds_sum"] += snap.get("insert_seconds_sum", 0.0)


def prometheus(snap: dict, gauges: dict[str, float]) -> str:
    """The Prometheus text exposition of a combined snapshot."""
    counters = snap["counters"]
    lines = []
    for name in sorted({"accepted", "loaded_rows", "duplicates_dropped", "inserts", "loader_errors", *counters}):
        lines += [f"# TYPE basirat_{name}_total counter", f"basirat_{name}_total {counters.get(name, 0)}"]
    lines.append("# TYPE basirat_rejected_total counter")
    for reason, value in sorted(snap["rejected"].items()):
        lines.append(f'basirat_rejected_total{{reason="{reason}"}} {value}')
    lines.append("# TYPE basirat_insert_seconds histogram")
    for bound in INSERT_BUCKETS:
        lines.append(f'basirat_insert_seconds_bucket{{le="{bound}"}} {snap["insert_buckets"].get(str(bound), 0)}')
    lines.append(f'basirat_insert_seconds_bucket{{le="+Inf"}} {counters.get("inserts", 0)}')
    lines.append(f"basirat_insert_seconds_sum {snap['insert_seconds_sum']:.6f}")
    lines.append(f"basirat_insert_seconds_count {counters.get('inserts', 0)}")
    for name, value in sorted(gauges.items()):
        lines += [f"# TYPE basirat_{name} gauge", f"basirat_{name} {value}"]
    return "\n".join(lines) + "\n"


METRICS = Metrics()
