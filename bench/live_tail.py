"""Rows the live tail reads, before and after the events' sort key puts the day after the site.

Real data, scaled: the Online Retail visits of ``bench.segments_dashboard``
(ending a day ago), copied under new people and spread back over a year, in a
chDB folder of its own (deleted afterwards). The warehouse is migrated up to
the sort-key rewrite (0150), filled, measured, migrated the rest of the way
and measured again. For each read it prints the parts and rows ClickHouse's
index analysis leaves to read (``EXPLAIN ESTIMATE``, summed over the queries
the read issues) and the median wall time, and the ratios against the read
on the old table in the same run:

- "main": the live-tail query as it was (newest first over the site, no bound);
- "windowed": the query the admin's Live events page and the events API now
  issue (``event_log.page``: the smallest recent window that holds the page).

    .venv/bin/python -m bench.live_tail [--events 2000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bench.segments_dashboard import base_rows
from warehouse import connect
from warehouse.engine.migrate import migrate
from warehouse.queries import event_log, events, sites
from warehouse.queries.synthetic import replicate_events

BEFORE_REWRITE = 149
MAIN_QUERY = (
    f"SELECT {event_log.COLUMNS} FROM events WHERE {event_log._WHERE} "
    "ORDER BY timestamp DESC, timestamp_ms DESC, message_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}"
)


class Recording:
    """The warehouse, with the queries a read issues written down."""

    def __init__(self, wh):
        self.wh, self.issued = wh, []

    def query(self, sql, params=None):
        self.issued.append((sql, params))
        return self.wh.query(sql, params)


def estimate(wh, issued) -> tuple[int, int]:
    parts = rows = 0
    for sql, params in issued:
        for r in wh.query("EXPLAIN ESTIMATE " + sql, params):
            parts, rows = parts + int(r["parts"]), rows + int(r["rows"])
    return parts, rows


def measure(wh, site: str, repeat: int) -> dict:
    params = {"site_id": site, "type": "", "event": "", "limit": 50, "offset": 0}
    out = {}
    reads = {
        "main": lambda w: w.query(MAIN_QUERY, params),
        "windowed": lambda w: event_log.page(w, site, 50, 0),
    }
    for name, read in reads.items():
        recording = Recording(wh)
        rows = read(recording)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            read(wh)
            times.append(time.perf_counter() - started)
        parts, estimated = estimate(wh, recording.issued)
        out[name] = {"parts": parts, "rows": estimated, "ms": statistics.median(times) * 1000, "result": rows}
    assert out["main"]["result"] == out["windowed"]["result"], "the windowed read must give the same page"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="basirat-bench-") as folder:
        wh = connect(f"chdb://{folder}")
        migrate(wh, until=BEFORE_REWRITE)
        base = sites.create_site(wh, "bench base")["site_id"]
        site = sites.create_site(wh, "bench")["site_id"]
        rows = base_rows(base)
        events.insert_events(wh, rows)
        copies = max(1, args.events // len(rows))
        for first in range(0, copies, 50):
            replicate_events(wh, base, site, first, min(copies, first + 50), spread_days=365)
        total = int(wh.scalar("SELECT count() FROM events") or 0)
        span = wh.query("SELECT min(timestamp) AS first, max(timestamp) AS last FROM events")[0]
        print(
            f"{total:,} events ({copies} copies of {len(rows):,} real-data events), {span['first']} .. {span['last']}"
        )
        old = measure(wh, site, args.repeat)
        started = time.perf_counter()
        applied = migrate(wh)
        seconds = time.perf_counter() - started
        after = int(wh.scalar("SELECT count() FROM events") or 0)
        print(f"migrated ({', '.join(applied)}) in {seconds:.1f} s; events before {total:,}, after {after:,}")
        assert after == total
        new = measure(wh, site, args.repeat)
        base_rows_read = old["main"]["rows"]
        print(f"{'read':<10} {'sort key':<36} {'parts':>6} {'rows':>10} {'ms':>8} {'rows vs main/old':>17}")
        for label, figures in (
            ("(site_id, anonymous_id, message_id)", old),
            ("(site_id, toDate(timestamp), ...)", new),
        ):
            for name, f in figures.items():
                ratio = f["rows"] / base_rows_read if base_rows_read else float("nan")
                print(f"{name:<10} {label:<36} {f['parts']:>6} {f['rows']:>10,} {f['ms']:>8.1f} {ratio:>17.3f}")
        wh.close()


if __name__ == "__main__":
    main()
