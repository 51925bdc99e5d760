"""Cluster vs single server: loading and reading events, measured here.

Starts Debian's clickhouse-server alone (the baseline) and a 2 shards x 2
replicas cluster with ZooKeeper, all on loopback, loads the same events into
each through ``warehouse.insert`` (what the loader does), reads them back with
the product's queries, and prints figures and cluster/single ratios. Stops
everything it started. Bounded: ``--rows`` (default 200000) in 50000-row
batches.

    .venv/bin/python -m bench.cluster [--rows N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import tempfile
import time
from pathlib import Path

from tests.support.cluster import ClickHouseCluster
from tests.support.factories import row
from tests.support.servers import ClickHouseServer
from warehouse import connect
from warehouse.engine.migrate import migrate
from warehouse.queries import events, popularity, sites

BATCH = 50_000


def make_rows(site_id: str, count: int, offset: int) -> list[dict]:
    start = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=1)
    rows = []
    for i in range(offset, offset + count):
        when = start + dt.timedelta(seconds=i % 80_000)
        event = "Product Added" if i % 5 == 0 else "Product Viewed"
        ids = {"message_id": f"m{i}", "anonymous_id": f"v{i % 20_000}", "product_id": f"p{i % 3_000}"}
        rows.append(row(site_id, when, event=event, **ids))
    return rows


def measure(warehouse, rows: int) -> dict[str, float]:
    migrate(warehouse)
    site = sites.create_site(warehouse, "bench")
    frames = [events.events_frame(make_rows(site["site_id"], min(BATCH, rows - o), o)) for o in range(0, rows, BATCH)]
    started = time.perf_counter()
    for frame in frames:
        warehouse.insert("events", frame)
    load = time.perf_counter() - started
    started = time.perf_counter()
    ids = [f"m{i}" for i in range(0, rows, max(1, rows // 1000))]
    for _ in range(20):
        assert len(events.known_message_ids(warehouse, site["site_id"], ids)) == len(ids)
    dedup = (time.perf_counter() - started) / 20
    started = time.perf_counter()
    for _ in range(5):
        assert events.count_events(warehouse, site["site_id"]) == rows
        popularity.product_interactions(warehouse)
    read = (time.perf_counter() - started) / 5
    return {
        "rows/s loaded": rows / load,
        "dedup lookup ms (1000 ids)": dedup * 1000,
        "count+popularity ms": read * 1000,
    }


def main() -> None:
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)  # readiness polls while servers boot
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    rows = parser.parse_args().rows
    root = Path(tempfile.mkdtemp(prefix="basirat-bench-cluster-"))
    single = ClickHouseServer(root / "single").start()
    try:
        baseline = measure(connect(single.url), rows)
    finally:
        single.stop()
    cluster = ClickHouseCluster(root / "cluster").start()
    try:
        clustered = measure(connect(cluster.url(0), cluster=cluster.name), rows)
    finally:
        cluster.stop()
    print(f"{rows} events, clickhouse-server 18.16 on loopback; cluster = 2 shards x 2 replicas + ZooKeeper")
    print(f"{'':28} {'single':>12} {'cluster':>12} {'cluster/single':>15}")
    for key in baseline:
        print(f"{key:28} {baseline[key]:12.1f} {clustered[key]:12.1f} {clustered[key] / baseline[key]:15.2f}")


if __name__ == "__main__":
    main()
