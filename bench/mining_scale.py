"""How mining scales with the warehouse: time and peak memory of every job at 1M..30M events.

    .venv/bin/python -m bench.mining_scale [--sizes 1M,3M] [--each [--jobs popularity,rules]] [--keep DIR]

For each size a subprocess owns a fresh chDB folder and loads that many events
built from YOOCHOOSE and Instacart (``bench/recdata.py``, the real data
repeated with fresh visitor ids). Then the jobs run as the README gives it,
``basirat --data DIR jobs run --full JOB...`` (every job but the weekly
evaluation of the recommendations), in a fresh process, and the bench
prints its wall time, its peak resident memory (``ru_maxrss`` of that child
alone, from ``wait4``) and each job's seconds as the command reports them.
Then 1% new events (fresh visitors, the last hour) arrive and
``basirat jobs run`` runs again: the incremental run. With ``--each`` every
job runs in a process of its own instead (``jobs run JOB``), for each job's
own peak; each of those processes pays the cost of opening the folder.

The baseline in the same run is the cost of the data itself: one
``SELECT count()`` process over the same folder (the floor of any job) and the
events' size on disk. Targets: every job's peak at most 1.5 GB at every size;
full time at most linear in events; incremental at most a tenth of full.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"1M": 1_000_000, "3M": 3_000_000, "10M": 10_000_000, "30M": 30_000_000}
LIMIT_MB = 1536


def load(data: Path, total: int, extra: bool) -> dict:
    """Runs in a subprocess that owns the folder: ``total`` events, or 1% more (``extra``)."""
    import pandas as pd

    from bench.recdata import million_events
    from warehouse import connect
    from warehouse.engine.migrate import migrate
    from warehouse.queries import sites

    wh = connect(f"chdb://{data / 'warehouse'}")
    migrate(wh)
    if extra:
        site = sites.list_sites(wh)[0]
        # New visitors of the last hour: copy 0 of the data, recent, with ids no earlier run used
        # (a --reuse run adds its own: the same ids again would be events re-sent by known visitors).
        batch = f"n{time.time_ns()}"
        frame = million_events(site["site_id"], max(total // 100, 1), now=time.time() + 3000)
        frame["anonymous_id"] = frame["anonymous_id"] + "-" + batch
        frame["message_id"] = batch + "-" + frame["message_id"]
        # They arrive now, whenever they happened (what the incremental jobs go by).
        frame["received_at"] = pd.Timestamp.now("UTC").floor("s").tz_localize(None)
        frame["received_at"] = frame["received_at"].astype("datetime64[s]")
    else:
        site = sites.create_site(wh, "bench", ["bench.example"])
        frame = None
    started = time.monotonic()
    n = 0
    chunk = 1_000_000
    for start in range(0, total if frame is None else len(frame), chunk):
        if frame is None:
            part = million_events(
                site["site_id"], min(chunk, total - start), now=time.time() - start // 400_000 * 86400
            )
            part["message_id"] = f"c{start}-" + part["message_id"]
            part["anonymous_id"] = part["anonymous_id"] + f"-c{start}"
        else:
            part = frame.iloc[start : start + chunk]
        for lo in range(0, len(part), 200_000):
            wh.insert("events", part.iloc[lo : lo + 200_000])
        n += len(part)
    seconds = time.monotonic() - started
    wh.close()
    return {"events": n, "load_seconds": round(seconds, 1)}


def measured(command: list[str], timeout: float) -> dict:
    """Wall seconds and peak RSS (MB) of one child process, its output kept for the log."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env()
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return {"seconds": None, "peak_mb": None, "ok": False, "output": output[-2000:] + "\n(timed out)"}
    return {
        "seconds": round(time.monotonic() - started, 2),
        "peak_mb": _peak_from(output),
        "ok": process.returncode == 0,
        "output": output[-20000:],
    }


_PEAK = "__peak_rss_kb="


def _peak_from(output: str) -> int | None:
    for line in reversed(output.splitlines()):
        if line.startswith(_PEAK):
            return int(line[len(_PEAK) :]) // 1024
    return None


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def child(argv: list[str]) -> None:
    """Run ``basirat ARGV`` in a grandchild and print its own peak RSS (wait4), whatever it prints."""
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", "basirat", *argv])
    _, status, usage = os.wait4(pid, 0)
    print(f"{_PEAK}{usage.ru_maxrss}", flush=True)
    sys.exit(os.waitstatus_to_exitcode(status))


def job_ids() -> list[str]:
    from mining.jobs import JOBS

    return [job.id for job in JOBS if job.id not in WEEKLY]


# Not mining: the weekly evaluation of each site's recommendations (``--jobs rec_evaluation`` measures it).
WEEKLY = ("rec_evaluation",)


# Jobs that share one rebuild (the folded visits): in a full run only the first of them is given --full,
# as `basirat jobs run --full` in one process rebuilds them once.
FOLDING = ("rules", "cooccurrence", "session_index")


def run_jobs(
    data: Path, jobs: list[str], timeout: float, label: str, extra: list[str], rebuilt_once: tuple = ()
) -> dict:
    out = {}
    first = next((j for j in jobs if j in rebuilt_once), None)
    for job in jobs:
        command = [sys.executable, "-m", "bench.mining_scale", "--child", "--", "--data", str(data), "jobs", "run", job]
        flags = [] if job in rebuilt_once and job != first else extra
        result = measured(command + flags, timeout)
        out[job] = result
        status = "" if result["ok"] else "  FAILED"
        print(f"  {label:<12}{job:<14}{result['seconds']!s:>9} s {result['peak_mb']!s:>7} MB{status}", flush=True)
        if not result["ok"]:
            print(result["output"], flush=True)
    return out


_DONE = re.compile(r"^(\w+): done in ([0-9.]+) s$")


def run_in_one(data: Path, jobs: list[str], timeout: float, label: str, extra: list[str]) -> dict:
    """The jobs in one ``basirat jobs run`` process (what the README and the scheduler run): its wall
    time and peak, and each job's seconds from the command's own "done in" lines."""
    command = [sys.executable, "-m", "bench.mining_scale", "--child", "--", "--data", str(data), "jobs", "run", *jobs]
    result = measured(command + extra, timeout)
    jobs = {m.group(1): float(m.group(2)) for m in map(_DONE.match, result["output"].splitlines()) if m}
    for job, seconds in jobs.items():
        print(f"  {label:<12}{job:<14}{seconds:>9} s", flush=True)
    status = "" if result["ok"] else "  FAILED"
    print(f"  {label:<12}{'(process)':<14}{result['seconds']!s:>9} s {result['peak_mb']!s:>7} MB{status}", flush=True)
    if not result["ok"]:
        print(result["output"], flush=True)
    return {"(process)": result}


def floor(data: Path) -> dict:
    """The baseline: a process that opens the folder and counts the events."""
    code = "from warehouse import connect; import sys; print(connect(sys.argv[1]).scalar('SELECT count() FROM events'))"
    command = [sys.executable, "-m", "bench.mining_scale", "--child-python", code, f"chdb://{data / 'warehouse'}"]
    return measured(command, 600)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[3:])
    if len(sys.argv) > 1 and sys.argv[1] == "--child-python":
        pid = os.fork()
        if pid == 0:
            os.execv(sys.executable, [sys.executable, "-c", sys.argv[2], *sys.argv[3:]])
        _, status, usage = os.wait4(pid, 0)
        print(f"{_PEAK}{usage.ru_maxrss}", flush=True)
        sys.exit(os.waitstatus_to_exitcode(status))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M", help=f"Comma-separated, of {', '.join(SIZES)}.")
    parser.add_argument(
        "--jobs", default="", help="Comma-separated job ids (default: every job but the weekly evaluation)."
    )
    parser.add_argument("--keep", type=Path, help="Folder to build in (kept); default a temporary one.")
    parser.add_argument("--timeout", type=float, default=3600, help="Seconds a single job may take.")
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    parser.add_argument("--reuse", action="store_true", help="Mine a --keep folder loaded by an earlier run again.")
    parser.add_argument("--no-incremental", action="store_true", help="Only the full run.")
    parser.add_argument(
        "--each", action="store_true", help="Each job in a process of its own (per-job peaks); default one process."
    )
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--extra", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(load(args.load, args.events, args.extra)))
        return
    jobs = [j for j in args.jobs.split(",") if j] or job_ids()
    if not args.each and not args.jobs:
        print(f"one `basirat jobs run` process for every job but the weekly ones ({', '.join(WEEKLY)})")
    report = {size: one_size(size, jobs, args) for size in args.sizes.split(",")}
    print_summary(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))


def one_size(size: str, jobs: list[str], args) -> dict:
    """Load (or reuse) one size, mine it in full, add 1% and mine it again."""
    total = SIZES[size]
    data = (args.keep or Path(tempfile.mkdtemp(prefix="basirat-bench-scale-"))) / size
    data.mkdir(parents=True, exist_ok=True)
    print(f"{size}: loading {total:,} events into {data}", flush=True)
    loader = [sys.executable, "-m", "bench.mining_scale", "--load", str(data), "--events", str(total)]
    saved = data / "loaded.json"
    if args.reuse and saved.exists():
        loaded = json.loads(saved.read_text())
    else:
        done = subprocess.run(loader, cwd=ROOT, env=_env(), capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"loading failed:\n{done.stderr[-3000:]}")
        loaded = json.loads(done.stdout)
        saved.write_text(json.dumps(loaded))
    base = floor(data)
    print(
        f"  loaded in {loaded['load_seconds']} s; baseline (count in a fresh process): "
        f"{base['seconds']} s {base['peak_mb']} MB",
        flush=True,
    )
    if args.each:
        full = run_jobs(data, jobs, args.timeout, "full", ["--full"], rebuilt_once=FOLDING)
    else:
        full = run_in_one(data, jobs, args.timeout, "full", ["--full"])
    incremental = {}
    if not args.no_incremental:
        subprocess.run([*loader, "--extra"], cwd=ROOT, env=_env(), check=True, capture_output=True)
        if args.each:
            incremental = run_jobs(data, jobs, args.timeout, "after +1%", [])
        else:
            incremental = run_in_one(data, jobs, args.timeout, "after +1%", [])
    return {"events": total, "load": loaded, "baseline": base, "full": full, "incremental": incremental}


def print_summary(report: dict) -> None:
    print("\nsize   full s   peak MB   worst job        +1% s   +1%/full   within 1.5 GB")
    first = None
    for size, r in report.items():
        full_s = sum(v["seconds"] or 0 for v in r["full"].values())
        inc_s = sum(v["seconds"] or 0 for v in r["incremental"].values())
        peaks = {}
        for runs in (r["full"], r["incremental"]):
            for job, v in runs.items():
                peaks[job] = max(peaks.get(job, 0), v["peak_mb"] or 0)
        worst = max(peaks, key=peaks.get)
        first = first or (r["events"], full_s)
        per = full_s / first[1] / (r["events"] / first[0])
        ratio = inc_s / full_s if inc_s else 0.0
        print(
            f"{size:<5}{full_s:>8.1f}{peaks[worst]:>10}   {worst:<14}{inc_s:>8.1f}{ratio:>10.2f}"
            f"   {'yes' if peaks[worst] <= LIMIT_MB else 'NO'}   (time per event vs {list(report)[0]}: {per:.2f}x)"
        )


if __name__ == "__main__":
    main()
