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

With ``--server`` the same runs on Debian's clickhouse-server (18.16, started
on loopback in the same folder), which has no EXPLAIN: rows are those the
server reports reading (the query's progress), parts are not reported.

    .venv/bin/python -m bench.live_tail [--events 2000000] [--repeat 5] [--server]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.segments_dashboard import base_rows
from tests.support.servers import ClickHouseServer
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
    """(parts, rows) left to read: EXPLAIN ESTIMATE where the server has it; on 18.16 the rows the
    server reports reading (the query's progress), parts unknown (-1)."""
    parts = rows = 0
    for sql, params in issued:
        if wh.version >= (21, 9):
            for r in wh.query("EXPLAIN ESTIMATE " + sql, params):
                parts, rows = parts + int(r["parts"]), rows + int(r["rows"])
        else:
            wh.query(sql, params)
            parts, rows = -1, rows + int(wh._client.last_query.progress.rows)
    return parts, rows


# Copies of the base site's events under new people, spread back over a year, with the columns
# written out (18.16 has no SELECT * REPLACE).
COPY_CHANGES = {
    "site_id": "{target:String}",
    "message_id": "concat(message_id, '-', toString(number))",
    "anonymous_id": "concat(anonymous_id, '-', toString(number))",
    "user_id": "if(user_id = '', '', concat(user_id, '-', toString(number)))",
    "order_id": "if(order_id = '', '', concat(order_id, '-', toString(number)))",
    "timestamp": "timestamp - (number % 365) * 86400",
}


def copy_events(wh, source: str, target: str, first: int, last: int) -> None:
    if wh.version >= (21, 1):
        replicate_events(wh, source, target, first, last, spread_days=365)
        return
    columns = [
        r["name"]
        for r in wh.query("SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'events'")
    ]
    select = ", ".join(f"{COPY_CHANGES.get(c, c)} AS {c}" for c in columns)
    wh.execute(
        f"INSERT INTO events SELECT {select} FROM (SELECT * FROM events WHERE site_id = {{source:String}}) "
        "ARRAY JOIN arrayMap(x -> x + {first:UInt32}, range({count:UInt32})) AS number",
        {"source": source, "target": target, "first": first, "count": last - first},
    )


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
    parser.add_argument("--server", action="store_true", help="Debian's clickhouse-server (18.16) instead of chDB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="basirat-bench-") as folder:
        server = ClickHouseServer(Path(folder)).start() if args.server else None
        try:
            run(connect(server.url) if server else connect(f"chdb://{folder}"), args)
        finally:
            if server:
                server.stop()


def run(wh, args) -> None:
    migrate(wh, until=BEFORE_REWRITE)
    base = sites.create_site(wh, "bench base")["site_id"]
    site = sites.create_site(wh, "bench")["site_id"]
    rows = base_rows(base)
    events.insert_events(wh, rows)
    copies = max(1, args.events // len(rows))
    for first in range(0, copies, 50):
        copy_events(wh, base, site, first, min(copies, first + 50))
    total = int(wh.scalar("SELECT count() FROM events") or 0)
    print(f"{type(wh).__name__}, ClickHouse {'.'.join(map(str, wh.version))}")
    span = wh.query("SELECT min(timestamp) AS first, max(timestamp) AS last FROM events")[0]
    print(f"{total:,} events ({copies} copies of {len(rows):,} real-data events), {span['first']} .. {span['last']}")
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
