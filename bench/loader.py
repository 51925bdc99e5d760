"""The loader's speed: spooled requests into ClickHouse, beside the warehouse insert alone.

    .venv/bin/python -m bench.loader [--events 200000] [--backend both|chdb|server]
    .venv/bin/python -m bench.loader --build [--events 50000] [--repeat 5]

Spools real clickstreams (YOOCHOOSE clicks, replicated with new ids until
there are ``--events``) as the tracker sends them: 20 messages a request, a
page view opening each session and a Product Viewed for every click, each with
its page context, user agent and times. Then ``Loader.drain`` loads the spool,
which covers reading the segments, building the rows, deduplicating against
what is loaded and inserting, and prints rows/s; into the server it drains with
the worker processes of ``BASIRAT_LOADER_WORKERS``, started first as ``basirat
loader`` starts them. The baseline is the same rows, already built, inserted a
pass at a time as the loader inserts them (what ClickHouse and the driver cost
alone); the ratio shows the loader's own share.
Runs on chDB and on Debian's clickhouse-server, each in a folder of its own
under a temporary directory; the server listens on 127.0.0.1 and is stopped.

``--build`` measures one step alone, with no warehouse: the CPU time
(``time.process_time``) per row of building a pass's insert columns
(``records.build``) from spooled requests shaped like bench/post_events.lua's,
20 Product Viewed messages a request with the batch's sentAt, read back from
a spool as the loader reads them. The cycle collector is paused as in a
loader pass, and the best of ``--repeat`` passes is kept (the parse caches are
warm then, as in a running loader).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from collector import records
from collector.loader import Loader
from collector.pipeline import messages_of, validate
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


def post_events_messages(count: int, size: int = 20) -> list[dict]:
    """``count`` messages as bench/post_events.lua posts them, through intake's own steps."""
    out: list[dict] = []
    for start in range(1, count + 1, size):
        batch = []
        for n in range(start, min(start + size, count + 1)):
            item = n % 997
            batch.append({"type": "track", "event": "Product Viewed", "anonymousId": f"visitor-{n % 5000}",
                          "messageId": f"run-1-{n}", "timestamp": "2026-11-25T10:00:00.000Z",
                          "properties": {"product_id": f"sku-{item}", "name": "Blue mug", "category": "Kitchen",
                                         "price": 12.5, "currency": "EUR"},
                          "context": {"page": {"url": f"https://shop.example/p/{item}", "path": f"/p/{item}",
                                               "referrer": "https://shop.example/", "title": "Blue mug"},
                                      "userAgent": "Mozilla/5.0 (X11; Linux x86_64)", "locale": "fr-FR",
                                      "library": {"name": "basirat.js", "version": "0.1.0"}}})  # fmt: skip
        doc = {"batch": batch, "sentAt": "2026-11-25T10:00:00.000Z"}
        out.extend(validate(msg, 32 * 1024) for msg in messages_of(doc, None))
    return out


def build_cost(count: int, repeat: int, config: dict) -> list[float]:
    """CPU microseconds per row of ``records.build`` over one pass of ``count`` spooled messages, per repeat."""
    work = Path(tempfile.mkdtemp(prefix="basirat-build-bench-"))
    try:
        spool_requests(work, "s_bench", post_events_messages(count))
        items = spooled(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    costs = []
    for _ in range(repeat):
        gc.disable()
        started = time.process_time()
        columns, held = records.build(items, config)
        took = time.process_time() - started
        gc.enable()
        if len(columns["message_id"]) != count or held:
            raise SystemExit(f"built {len(columns['message_id'])} rows and held {len(held)}, not {count} rows")
        del columns, held
        gc.collect()
        costs.append(took / count * 1e6)
    return costs


def spool_requests(directory: Path, site_id: str, batch: list[dict]) -> None:
    spool = Spool(str(directory), max_bytes=16 << 30)
    received = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    for start in range(0, len(batch), 20):
        spool.append([records.request_record(batch[start : start + 20], site_id, received, "203.0.113.0", "")])
    spool.close()


def spooled(directory: Path) -> list[dict]:
    """Every item of a spool, as the loader reads them."""
    items = []
    for name in segments(str(directory)):
        got, _ = read_records(str(directory / name), 0, 10**9)
        items.extend(got)
    return items


def built_columns(directory: Path, config: dict, site_id: str) -> dict[str, list]:
    """The columns the loader builds from the spool, for the baseline (under another site id)."""
    columns, _ = records.build(spooled(directory), config)
    return {**columns, "site_id": [site_id] * len(columns["site_id"])}


def measure(url: str, work: Path, batch: list[dict], config: dict) -> dict:
    wh = connect(url)
    migrate(wh)
    site, other = sites.create_site(wh, "loader bench"), sites.create_site(wh, "baseline")
    spool_dir = work / "spool"
    spool_requests(spool_dir, site["site_id"], batch)
    columns, size = built_columns(spool_dir, config, other["site_id"]), config["LOADER_BATCH_ROWS"]
    started = time.perf_counter()
    for start in range(0, len(columns["site_id"]), size):
        events.insert_event_columns(wh, {name: values[start : start + size] for name, values in columns.items()})
    baseline = time.perf_counter() - started
    del columns
    loader = Loader(wh, str(spool_dir), batch_rows=config["LOADER_BATCH_ROWS"], config=config)
    loader.start_workers()  # as `basirat loader` does before it drains: started once, not per drain
    started = time.perf_counter()
    loaded = loader.drain(timeout=None)
    took = time.perf_counter() - started
    loader.stop(drain=False)
    stored = events.count_events(wh, site["site_id"])
    wh.close()
    return {"loaded": loaded, "stored": stored, "seconds": took, "baseline": baseline, "workers": loader.workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="messages (default 200,000; 50,000 with --build)")
    parser.add_argument("--backend", choices=("both", "chdb", "server"), default="both")
    parser.add_argument("--build", action="store_true", help="CPU per row of building columns, no warehouse")
    parser.add_argument("--repeat", type=int, default=5, help="passes measured with --build")
    args = parser.parse_args()
    if args.build:
        count = args.events or 50_000
        costs = build_cost(count, args.repeat, settings.load())
        print(f"records.build, {count:,} post_events.lua messages (20 a request), CPU per row:")
        print(f"  best {min(costs):.2f} µs, median {statistics.median(costs):.2f} µs over {len(costs)} passes")
        return
    events_wanted = args.events or 200_000
    clicks = pd.read_csv(CLICKS, sep="\t")
    copies = -(-events_wanted // len(clicks))
    batch = messages(clicks, copies, events_wanted)
    config = settings.load()
    print(f"{len(batch):,} messages from {len(clicks):,} YOOCHOOSE clicks; {config['LOADER_BATCH_ROWS']:,} rows a pass")
    print(f"{'':<30}{'loader rows/s':>15}{'insert alone rows/s':>21}{'ratio':>8}")
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
            if result["workers"] > 1:
                name += f", {result['workers']} workers"
            rate, base = result["loaded"] / result["seconds"], len(batch) / result["baseline"]
            check = "all there" if result["loaded"] == result["stored"] == len(batch) else "MISMATCH"
            print(f"{name:<30}{rate:>15,.0f}{base:>21,.0f}{rate / base:>8.0%}   ({result['stored']:,} rows: {check})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
