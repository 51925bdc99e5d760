"""The loader's speed: spooled requests into ClickHouse, beside the warehouse insert alone.

    .venv/bin/python -m bench.loader [--events 200000] [--backend both|chdb|server]

Spools real clickstreams (YOOCHOOSE clicks, replicated with new ids until
there are ``--events``) as the tracker sends them: 20 messages a request, a
page view opening each session and a Product Viewed for every click, each with
its page context, user agent and times. Then ``Loader.drain`` loads the spool,
which covers reading the segments, building the rows, deduplicating against
what is loaded and inserting, and prints rows/s. The baseline is the same rows,
already built, inserted a pass at a time as the loader inserts them (what
ClickHouse and the driver cost alone); the ratio shows the loader's own share.
Runs on chDB and on Debian's clickhouse-server, each in a folder of its own
under a temporary directory; the server listens on 127.0.0.1 and is stopped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from collector import records
from collector.loader import Loader
from collector.spool import Spool, read_records, segments
from core import settings
from tests.support.servers import ClickHouseServer, server_binary
from warehouse import connect
from warehouse.engine.migrate import migrate
from warehouse.queries import events, sites

ROOT = Path(__file__).resolve().parent.parent

CLICKS = ROOT.parent / "shared" / "data" / "yoochoose" / "yoochoose-clicks-100k_train_full.txt"
AGENTS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148",
          "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36")  # fmt: skip


def messages(clicks: pd.DataFrame, copies: int, limit: int) -> list[dict]:
    """Segment messages from the clicks, one copy per replica with its own ids and a later time."""
    out: list[dict] = []
    first = ~clicks["SessionId"].duplicated()
    for k in range(copies):
        for session, item, when, opens in zip(clicks["SessionId"], clicks["ItemId"], clicks["Time"], first):
            stamp = dt.datetime.fromtimestamp(when + k * 86400 * 3, dt.timezone.utc).isoformat(timespec="milliseconds")
            url = f"https://shop.example/p/{item}"
            context = {"page": {"url": url, "path": f"/p/{item}", "referrer": "https://shop.example/",
                                "title": f"Product {item}"},
                       "userAgent": AGENTS[session % 2], "locale": "de-DE",
                       "library": {"name": "basirat.js", "version": "0.1.0"}}  # fmt: skip
            base = {"anonymousId": f"r{k}-{session}", "messageId": f"b{k}-{len(out)}",
                    "timestamp": stamp.replace("+00:00", "Z"), "context": context}  # fmt: skip
            if opens:
                out.append({**base, "type": "page", "properties": {"url": url}})
                base = {**base, "messageId": f"b{k}-{len(out)}"}
            out.append({**base, "type": "track", "event": "Product Viewed",
                        "properties": {"product_id": str(item), "price": 10.0, "currency": "EUR"}})  # fmt: skip
            if len(out) >= limit:
                return out[:limit]
    return out


def spool_requests(directory: Path, site_id: str, batch: list[dict]) -> None:
    spool = Spool(str(directory), max_bytes=16 << 30)
    received = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    for start in range(0, len(batch), 20):
        spool.append([records.request_record(batch[start : start + 20], site_id, received, "203.0.113.0", "")])
    spool.close()


def built_rows(directory: Path, config: dict, site_id: str) -> list[dict]:
    """The rows the loader builds from the spool, for the baseline (under another site id)."""
    items = []
    for name in segments(str(directory)):
        got, _ = read_records(str(directory / name), 0, 10**9)
        items.extend(got)
    return [{**row, "site_id": site_id} for row in records.expand(items, config)]


def measure(url: str, work: Path, batch: list[dict], config: dict) -> dict:
    wh = connect(url)
    migrate(wh)
    site, other = sites.create_site(wh, "loader bench"), sites.create_site(wh, "baseline")
    spool_dir = work / "spool"
    spool_requests(spool_dir, site["site_id"], batch)
    rows = built_rows(spool_dir, config, other["site_id"])
    started = time.perf_counter()
    for start in range(0, len(rows), config["LOADER_BATCH_ROWS"]):
        events.insert_event_columns(wh, events.event_columns(rows[start : start + config["LOADER_BATCH_ROWS"]]))
    baseline = time.perf_counter() - started
    del rows
    started = time.perf_counter()
    loaded = Loader(wh, str(spool_dir), batch_rows=config["LOADER_BATCH_ROWS"], config=config).drain(timeout=None)
    took = time.perf_counter() - started
    stored = events.count_events(wh, site["site_id"])
    wh.close()
    return {"loaded": loaded, "stored": stored, "seconds": took, "baseline": baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--backend", choices=("both", "chdb", "server"), default="both")
    args = parser.parse_args()
    clicks = pd.read_csv(CLICKS, sep="\t")
    copies = -(-args.events // len(clicks))
    batch = messages(clicks, copies, args.events)
    config = settings.load()
    print(f"{len(batch):,} messages from {len(clicks):,} YOOCHOOSE clicks; {config['LOADER_BATCH_ROWS']:,} rows a pass")
    print(f"{'':<20}{'loader rows/s':>15}{'insert alone rows/s':>21}{'ratio':>8}")
    work = Path(tempfile.mkdtemp(prefix="basirat-loader-bench-"))
    try:
        backends = ("chdb", "server") if args.backend == "both" else (args.backend,)
        if "server" in backends and not server_binary():
            raise SystemExit("clickhouse-server is not installed (Debian package clickhouse-server)")
        for backend in backends:
            folder = work / backend
            folder.mkdir(parents=True)
            server = ClickHouseServer(folder / "clickhouse").start() if backend == "server" else None
            try:
                result = measure(server.url if server else f"chdb://{folder / 'data'}", folder, batch, config)
            finally:
                if server:
                    server.stop()
            name = "clickhouse-server" if server else "chDB"
            rate, base = result["loaded"] / result["seconds"], len(batch) / result["baseline"]
            check = "all there" if result["loaded"] == result["stored"] == len(batch) else "MISMATCH"
            print(f"{name:<20}{rate:>15,.0f}{base:>21,.0f}{rate / base:>8.0%}   ({result['stored']:,} rows: {check})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
