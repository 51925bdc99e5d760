"""Collector throughput under gunicorn, beside a bare Flask endpoint, on loopback.

    .venv/bin/python -m bench.collector [--seconds 10] [--connections 32] [--workers 0] [--threads 8]

Starts a ClickHouse server (Debian's clickhouse-server, for the site keys), then
for 20-event batches and for single events runs wrk (Lua script
bench/post_events.lua: unique message ids in every request) against
``basirat collector`` (gunicorn, collector.gunicorn_conf; every 200 is fsync'd
to the spool) and against bench/bare_app.py under the same gunicorn settings.
Prints requests/s, events/s, p50/p99 and the collector/bare ratio, then loads
the spool and checks that every acknowledged event is in ClickHouse once.
Everything listens on 127.0.0.1 and stops by itself.

Single runs on two shared cores swing by a third, so ``--rounds`` (3 by
default) alternates bare and collector runs and the table shows each one's
median round by requests/s, with the range of requests/s over the rounds.

The collector and the loader run one after the other, each with the machine
to itself: the collector's events/s are its median round of 20-event batches
(wrk on the same cores), the loader's rows/s are ``basirat loader --once`` over
everything spooled, as its progress line gives them (from the start of its
drain, after the process has started and connected); the ratio is printed. Beside
them the CPU each spent per event (the collector's gunicorn processes; the
loader process and the ClickHouse server it inserts into), which says how
the two would split the cores when they run at once under a sustained load.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from tests.support.servers import ClickHouseServer, free_port
from warehouse import connect
from warehouse.engine.migrate import migrate
from warehouse.queries import sites

ROOT = Path(__file__).resolve().parent.parent

GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "python:collector.gunicorn_conf"]


def start(command: list[str], env: dict, port: int, log: Path) -> subprocess.Popen:
    out = open(log, "ab")
    process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError as exc:
            if getattr(exc, "code", None) in (404, 405, 503):
                return process
            if process.poll() is not None:
                raise SystemExit(f"{command[-1]} exited; see {log}") from None
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"{command[-1]} did not start; see {log}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group.

    Sampled around each wrk run: CPU per request does not depend on what else
    the machine is doing, so it shows the collector's own cost even when the
    requests/s figures are disturbed by other load.
    """
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after "(comm)": state, ppid, pgrp, …, utime (12), stime (13)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def wrk(port: int, size: int, auth: str, args) -> dict:
    script = ROOT / "bench" / "post_events.lua"
    run_id = uuid.uuid4().hex  # message ids unique across runs
    command = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{args.seconds}s",
               "--latency", "-s", str(script), f"http://127.0.0.1:{port}", "--", str(size), auth, run_id]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + 60, check=True).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "non2xx": int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1]),
        "errors": sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
    }


def _median(results: list[dict]) -> dict:
    """The run with the median requests/s (its own latency and CPU figures, not a mix of runs)."""
    return sorted(results, key=lambda r: r["rps"])[len(results) // 2]


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def measure(name: str, command: list[str], env: dict, auth: str, work: Path, args) -> tuple[dict, dict]:
    """(measured run, warm-up run) per request size."""
    results, warm = {}, {}
    for size in (20, 1):
        port = free_port()
        process = start(command, {**env, "BASIRAT_PORT": str(port)}, port, work / f"{name}.log")
        try:
            warm[size] = wrk(port, size, auth, argparse.Namespace(**{**vars(args), "seconds": 2}))
            cpu = group_cpu(process.pid)
            results[size] = wrk(port, size, auth, args)
            results[size]["cpu_us"] = (group_cpu(process.pid) - cpu) / max(1, results[size]["requests"]) * 1e6
        finally:
            stop(process)
    return results, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (0: two per core)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--rounds", type=int, default=3, help="alternating bare/collector rounds; medians shown")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (spool, logs) for inspection")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian package wrk; scripts/system-deps installs it)")
    work = Path(tempfile.mkdtemp(prefix="basirat-bench-"))
    server = ClickHouseServer(work / "clickhouse").start()
    try:
        run(server, work, args)
    finally:
        server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(server, work: Path, args) -> None:
    wh = connect(server.url)
    migrate(wh)
    site = sites.create_site(wh, "bench")
    auth = "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()
    env = {
        **os.environ,
        "BASIRAT_WAREHOUSE_URL": server.url,
        "BASIRAT_SPOOL_DIR": str(work / "spool"),
        "BASIRAT_COLLECTOR_WORKERS": str(args.workers),
        "BASIRAT_COLLECTOR_THREADS": str(args.threads),
        "BASIRAT_IP_RATE_LIMIT": "0",
        "BASIRAT_SITE_RATE_LIMIT": "0",
        "BASIRAT_SPOOL_MAX_BYTES": str(16 << 30),  # every round's events stay spooled until the check at the end
        "PYTHONPATH": str(ROOT),
    }
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; wrk -t{args.wrk_threads} "
          f"-c{args.connections} -d{args.seconds}s; gunicorn gthread, {args.workers or 2 * os.cpu_count()} workers "
          f"x {args.threads} threads")  # fmt: skip
    startup = startup_cost(env)
    servers = (("bare Flask", [*GUNICORN, "bench.bare_app:app"]), ("collector", [*GUNICORN, "collector.wsgi:app"]))
    rounds: dict[str, list[dict]] = {name: [] for name, _ in servers}
    runs = []
    for number in range(1, args.rounds + 1):
        for name, command in servers:
            measured, warm = measure(name.split()[0], command, env, auth, work, args)
            rounds[name].append(measured)
            if name == "collector":
                runs += [*measured.items(), *warm.items()]
        latest = ", ".join(f"{name} x{n} {rs[-1][n]['rps']:.0f}" for name, rs in rounds.items() for n in (20, 1))
        print(f"round {number} req/s: {latest}", flush=True)
    print(f"\n{'':<30}{'req/s':>9}{'events/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'non-2xx':>9}{'of bare':>9}"
          f"{'CPU us/req':>12}{'req/s range':>14}")  # fmt: skip
    for size, label in ((20, "20-event batches"), (1, "single events")):
        median = {name: _median([r[size] for r in rs]) for name, rs in rounds.items()}
        for name, result in median.items():
            spread = [r[size]["rps"] for r in rounds[name]]
            ratio = f"{result['rps'] / median['bare Flask']['rps']:.0%}" if name == "collector" else ""
            print(f"{label + ', ' + name:<30}", end="")
            print(f"{result['rps']:>9.0f}{result['rps'] * size:>10.0f}{result['p50']:>8.1f}{result['p99']:>8.1f}"
                  f"{result['non2xx'] + result['errors']:>9}{ratio:>9}{result['cpu_us']:>12.0f}"
                  f"{min(spread):>8.0f}-{max(spread):.0f}")  # fmt: skip
    acknowledged = sum((r["requests"] - r["non2xx"]) * size for size, r in runs)
    batches = _median([r[20] for r in rounds["collector"]])
    verify(wh, site["site_id"], work, env, acknowledged, batches, server, startup)
    wh.close()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load_once(env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "basirat", "loader", "--once"], env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"basirat loader --once failed: {done.stderr.strip()[-2000:]}")
    return done


def startup_cost(env: dict) -> float:
    """CPU seconds of ``basirat loader --once`` with nothing spooled: starting, importing, connecting."""
    cpu = _children_cpu()
    _load_once(env)
    return _children_cpu() - cpu


def verify(wh, site_id: str, work: Path, env: dict, acknowledged: int, batches: dict, server, startup_cpu) -> None:
    """Load the spool and check that the acknowledged events are all there, once (warm-ups included).

    The loader should keep up: its rows/s against the collector's events/s on 20-event batches,
    and its CPU per event (with the ClickHouse server's) against the collector's."""
    collector_events, collector_cpu = batches["rps"] * 20, batches["cpu_us"] / 20
    started, cpu, server_cpu = time.monotonic(), _children_cpu(), group_cpu(server.process.pid)
    done = _load_once(env)
    out = done.stdout.strip().splitlines()[-1]
    seconds = time.monotonic() - started
    cpu, server_cpu = _children_cpu() - cpu - startup_cpu, group_cpu(server.process.pid) - server_cpu
    rows = wh.query("SELECT count() AS n, uniqExact(message_id) AS u FROM events WHERE site_id = {s:String}",
                    {"s": site_id})[0]  # fmt: skip
    loader_cpu = (cpu + server_cpu) / max(1, rows["n"]) * 1e6
    # The loader's own progress line: rows/s since its drain began, start-up (imports, connecting) left out.
    draining = [float(m) for m in re.findall(r"\(([\d.]+) rows/s\)", done.stderr)][-1:] or [rows["n"] / seconds]
    print(f"\nloader: {out} in {seconds:.1f}s ({rows['n'] / seconds:.0f} rows/s with start-up, {draining[0]:.0f} "
          f"draining: {draining[0] / collector_events:.2f}x the collector's {collector_events:.0f} events/s "
          f"on 20-event batches; each alone on the {os.cpu_count()} cores, one after the other)")  # fmt: skip
    print(f"CPU per event: collector {collector_cpu:.1f} us (gunicorn), loader {loader_cpu:.1f} us "
          f"(its start-up, {startup_cpu:.1f} s of CPU with nothing spooled, left out: "
          f"{cpu / max(1, rows['n']) * 1e6:.1f} loader process + {server_cpu / max(1, rows['n']) * 1e6:.1f} "
          f"ClickHouse server); collector/loader {collector_cpu / max(loader_cpu, 1e-9):.2f}")  # fmt: skip
    files = (work / "spool" / "metrics").glob("*.json")
    accepted = sum(json.loads(path.read_text())["counters"].get("accepted", 0) for path in files)
    verdict = "all there, once" if rows["n"] == rows["u"] == accepted >= acknowledged else "MISMATCH"
    print(f"collector answered 200 for {accepted} events (wrk saw {acknowledged}; the rest were in flight when wrk "
          f"stopped); in ClickHouse {rows['n']} rows, {rows['u']} distinct ids: {verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
