"""Recommendation benchmark: mining 1M real events, then serving from memory.

    .venv/bin/python -m bench.recommend [--data DIR] [--events 1000000] [--seconds 15] [--computed-only]

1. A subprocess owns a fresh chDB folder, loads ``--events`` events built from
   YOOCHOOSE and Instacart (bench/recdata.py), and runs every mining job,
   reporting seconds and peak memory; the baseline is the original
   popularity job (one aggregation and a weighted sum) over the same events.
2. ``basirat serve`` then serves that folder (the scheduler off, so nothing
   else runs) and wrk measures ``GET /v1/recommendations`` for a visitor
   whose live session has 10 product views, against ``/healthz`` of the same
   process as the baseline of what the HTTP stack alone can do.
3. ``basirat recommend --workers 2`` (the endpoint alone, one process per
   core, reading the owner's warehouse through its socket) is measured the
   same way.
4. Answers computed in the app: wrk repeats one request, which the answer
   cache serves after the first, so a subprocess loads the site's models as
   the endpoint does and times ``serving.recommend`` itself on 2,000
   different live sessions (the last 10 clicks of real visits), with seen
   products shown and hidden, against a visitor with no session (popular):
   after untimed warm-up answers, three passes over the sessions, every
   timing kept; p50 and p99 of wall-clock time and of the thread's CPU time
   (what the computation costs, whatever else the host runs), with the load
   average before and after.

The servers run without the per-client rate limit (``BASIRAT_REC_IP_RATE_LIMIT=0``):
wrk is one client, and the limiter's 429s are not what is measured.

``--data DIR --reuse`` serves a folder loaded by an earlier run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_and_mine(data: Path, total: int) -> dict:
    """Runs in the subprocess that owns the folder."""
    import pandas as pd

    from bench.recdata import as_event_rows, million_events
    from core import settings
    from mining.jobs import JOBS
    from recommender.popularity import score_popularity
    from warehouse import connect
    from warehouse.engine.migrate import migrate
    from warehouse.queries import popularity as popularity_store
    from warehouse.queries import sites

    wh = connect(f"chdb://{data / 'warehouse'}")
    migrate(wh)
    site = sites.create_site(wh, "bench", ["bench.example"])
    started = time.monotonic()
    frame = million_events(site["site_id"], total)
    for start in range(0, len(frame), 200_000):
        wh.insert("events", frame.iloc[start : start + 200_000])
    loaded = time.monotonic() - started
    session = frame[frame["anonymous_id"].str.startswith("yc-")].groupby("anonymous_id")["product_id"].agg(list)
    items = next(s for s in session if len(set(s)) >= 10)[:10]
    now = time.time()
    visit = pd.DataFrame(
        {"anonymous_id": "bench-visitor", "event": "Product Viewed", "product_id": items, "order_id": ""}
    ).assign(time=[now - 60 + i for i in range(10)])
    wh.insert("events", as_event_rows(visit, site["site_id"]).assign(message_id=[f"v{i}" for i in range(10)]))
    started = time.monotonic()
    score_popularity(popularity_store.product_interactions(wh))
    baseline = time.monotonic() - started
    seconds = {}
    for job in JOBS:
        if job.id == "rec_evaluation":  # the weekly offline evaluation is not mining; `basirat evaluate` times it
            continue
        started = time.monotonic()
        job.run(wh, settings.load(), progress=lambda m: print(m, file=sys.stderr, flush=True))
        seconds[job.id] = round(time.monotonic() - started, 2)
    wh.close()
    return {
        "site": {"site_id": site["site_id"], "public_key": site["public_key"]},
        "events": len(frame),
        "load_seconds": round(loaded, 1),
        "jobs": seconds,
        "mining_seconds": round(sum(seconds.values()), 1),
        "baseline_seconds": round(baseline, 2),
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def computed_answers(data: Path, site_id: str, count: int = 2000, passes: int = 3, warmup: int = 300) -> dict:
    """Runs in a subprocess that owns the folder: ``serving.recommend`` timed on distinct live sessions.

    ``warmup`` answers are computed first and not timed; then every session is
    answered once per pass (``passes`` passes, so ``count * passes`` timings),
    each timing kept: wall-clock time, and the CPU time of the thread, which
    other processes on a busy host cannot inflate. The host's load average is
    read before and after.
    """
    import numpy as np

    from recommender.index import Index
    from recommender.mining import sessionize
    from recommender.serving import Request, recommend
    from warehouse import connect
    from warehouse.queries import recommendations as rec_store

    wh = connect(f"chdb://{data / 'warehouse'}")
    index = Index(wh)
    index.refresh(force=True)
    models = index.site(site_id)
    views = sessionize(rec_store.interactions(wh, since_days=3650))
    views = views[views["kind"] == "view"]
    visits = [g["item_id"].tolist()[-10:] for _, g in views.groupby("session_id", sort=True) if len(g) >= 10]
    wh.close()
    visits = visits[:count]
    out = {"sessions": len(visits), "passes": passes, "warmup": warmup, "load_before": os.getloadavg()[0]}
    for label, show_seen, empty in (("shown", True, False), ("hidden", False, False), ("popular", False, True)):
        now = time.time()
        requests = [
            Request(
                context="home",
                limit=10,
                session=[] if empty else [(now - 60 + i, "view", item) for i, item in enumerate(items)],
                now=now,
                show_seen=show_seen,
            )
            for items in visits
        ]
        for request in (requests * (1 + warmup // max(len(requests), 1)))[:warmup]:
            recommend(models, request)
        wall, cpu = [], []
        for _ in range(passes):
            for request in requests:
                started, started_cpu = time.perf_counter(), time.thread_time()
                recommend(models, request)
                cpu.append((time.thread_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
        out[label] = {
            "requests": len(wall),
            "p50_ms": float(np.percentile(wall, 50)),
            "p99_ms": float(np.percentile(wall, 99)),
            "cpu_p50_ms": float(np.percentile(cpu, 50)),
            "cpu_p99_ms": float(np.percentile(cpu, 99)),
        }
    out["load_after"] = os.getloadavg()[0]
    return out


def print_computed(computed: dict) -> None:
    print(
        f"  answers computed in the app (serving.recommend), {computed['sessions']:,} distinct 10-click sessions,"
        f" {computed['passes']} passes after {computed['warmup']} untimed (load average"
        f" {computed['load_before']:.1f} before, {computed['load_after']:.1f} after, on {os.cpu_count()} cores;"
        " target p99 <= 5 ms):"
    )
    for label in ("shown", "hidden", "popular"):
        what = {"shown": "seen products shown", "hidden": "seen hidden", "popular": "no session (baseline)"}[label]
        found = computed[label]
        print(
            f"    {what}: {found['requests']:,} answers, p50 {found['p50_ms']:.3f} ms, p99 {found['p99_ms']:.3f} ms;"
            f" CPU time p50 {found['cpu_p50_ms']:.3f} ms, p99 {found['cpu_p99_ms']:.3f} ms"
            f" ({found['p99_ms'] / computed['popular']['p99_ms']:.0f}x baseline p99)"
        )


def wrk(url: str, seconds: int, connections: int = 16) -> dict:
    """Client figures from wrk; server-side ones from each answer's Server-Timing header."""
    script = Path(__file__).with_name("server_timing.lua")
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: _ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    server = re.search(r"SERVER n=\d+ p50=([\d.]+) p99=([\d.]+)", out)
    return {
        "rps": rps,
        "p50_ms": latency.get("50"),
        "p99_ms": latency.get("99"),
        "server_p50_ms": float(server.group(1)) if server else None,
        "server_p99_ms": float(server.group(2)) if server else None,
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def start(data: Path, port: int, command: list[str], ready: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "BASIRAT_SCHEDULER_IN_SERVE": "false",
        "BASIRAT_REC_IP_RATE_LIMIT": "0",
        "BASIRAT_REC_SITE_RATE_LIMIT": "0",
    }
    cmd = [sys.executable, "-m", "basirat", "--data", str(data), *command, "--port", str(port)]
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=2).close()
            return process
        except urllib.error.HTTPError:
            return process  # it answers (a 401 for the bare endpoint)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"basirat {command[0]} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--reuse", action="store_true", help="Serve a --data folder loaded by an earlier run.")
    parser.add_argument("--computed-only", action="store_true", help="Stop after timing answers computed in the app.")
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--computed", nargs=2, metavar=("DIR", "SITE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(load_and_mine(args.load, args.events)))
        return
    if args.computed:
        print(json.dumps(computed_answers(Path(args.computed[0]), args.computed[1])))
        return
    data = args.data or Path(tempfile.mkdtemp(prefix="basirat-bench-rec-"))
    print(f"{args.events:,} events in {data}, loaded and mined by a subprocess...", flush=True)
    saved = data / "bench.json"
    if args.reuse and saved.exists():
        mined = json.loads(saved.read_text())
    else:
        child = [sys.executable, "-m", "bench.recommend", "--load", str(data), "--events", str(args.events)]
        mined = json.loads(subprocess.run(child, cwd=ROOT, check=True, capture_output=True, text=True).stdout)
        saved.write_text(json.dumps(mined))
    print(f"  loaded in {mined['load_seconds']} s; jobs: {mined['jobs']}")
    ratio = mined["mining_seconds"] / mined["baseline_seconds"]
    print(
        f"  mining: {mined['mining_seconds']} s (target <= 120), peak memory {mined['max_rss_mb']} MB (target <= 8192);"
        f" baseline popularity job {mined['baseline_seconds']} s, ratio {ratio:.1f}x"
    )
    child = [sys.executable, "-m", "bench.recommend", "--computed", str(data), mined["site"]["site_id"]]
    computed = json.loads(subprocess.run(child, cwd=ROOT, check=True, capture_output=True, text=True).stdout)
    print_computed(computed)
    if args.computed_only:
        return
    from tests.support.servers import free_port

    key = mined["site"]["public_key"]
    query = f"/v1/recommendations?key={key}&anonymousId=bench-visitor&context=home&limit=10"
    port, workers_port = free_port(), free_port()
    owner = start(data, port, ["serve", "--threads", "8"], "/healthz")
    try:
        sample = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}{query}", timeout=5).read())
        assert sample["strategy"] == "session_knn", sample  # the live session is in memory
        print(f"  sample answer: strategy {sample['strategy']}, {len(sample['items'])} items")
        health = wrk(f"http://127.0.0.1:{port}/healthz", args.seconds)
        embedded = wrk(f"http://127.0.0.1:{port}{query}", args.seconds)
        workers = start(data, workers_port, ["recommend", "--workers", "2"], "/v1/recommendations")
        try:
            scaled = wrk(f"http://127.0.0.1:{workers_port}{query}", args.seconds)
        finally:
            workers.terminate()
            workers.wait(timeout=60)
    finally:
        owner.terminate()
        owner.wait(timeout=60)
    print(f"  /healthz of basirat serve (baseline): {_figures(health)}")
    for label, found in (("basirat serve (1 process)", embedded), ("basirat recommend --workers 2", scaled)):
        print(
            f"  /v1/recommendations, 10-event session, {label}: {_figures(found)};"
            f" {found['rps'] / health['rps']:.2f}x baseline (targets >= 4000 req/s, p99 <= 10 ms)"
        )


def _figures(found: dict) -> str:
    server = ""
    if found["server_p99_ms"] is not None:
        server = f" (in the app: p50 {found['server_p50_ms']:.3f} ms, p99 {found['server_p99_ms']:.3f} ms)"
    return (
        f"{found['rps']:,.0f} req/s, wrk p50 {found['p50_ms']:.2f} ms, p99 {found['p99_ms']:.2f} ms{server},"
        f" non-2xx {found['non2xx']}"
    )


if __name__ == "__main__":
    main()
