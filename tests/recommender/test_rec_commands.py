"""The recommender's commands and processes: scheduler, evaluate, and a real ``basirat serve``."""

import ast
import base64
import json
import threading
import time
import urllib.request

import pytest

from mining.jobs import JOBS, Job
from mining.scheduler import build_scheduler, job_specs
from tests.support.config import CONFIG
from tests.support.datasets import data_dir
from tests.support.factories import store_history
from tests.support.live import LiveServer, basirat


def test_jobs_are_declared_as_data_for_apscheduler():
    specs = {spec["id"]: spec for spec in job_specs(object(), CONFIG)}
    assert set(specs) == {job.id for job in JOBS}
    assert all(s["replace_existing"] and s["max_instances"] == 1 and s["coalesce"] for s in specs.values())


def test_scheduler_runs_a_job():
    ran = threading.Event()
    scheduler = build_scheduler(
        "wh",
        CONFIG,
        background=True,
        jobs=[Job("probe", lambda wh, config, progress: ran.set(), 60, "probe")],
        run_now=True,
    )
    scheduler.start()
    try:
        assert ran.wait(10)
    finally:
        scheduler.shutdown(wait=False)


def test_scheduler_runs_one_job_at_a_time():
    """Jobs share folds (the visits, the facts): two due together run one after the other."""
    spans, done = [], threading.Semaphore(0)

    def probe(wh, config, progress):
        start = time.monotonic()
        time.sleep(0.3)
        spans.append((start, time.monotonic()))
        done.release()

    jobs = [Job(name, probe, 60, name) for name in ("first", "second", "third")]
    scheduler = build_scheduler("wh", CONFIG, background=True, jobs=jobs, run_now=True)
    scheduler.start()
    try:
        assert all(done.acquire(timeout=10) for _ in jobs)
    finally:
        scheduler.shutdown(wait=False)
    spans.sort()
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:])), spans


@pytest.mark.process
def test_evaluate_prints_json_per_protocol_and_strategy(tmp_path):
    out = basirat(tmp_path, "evaluate", "--sessions", "40", "--json", "--data-dir", str(data_dir()))
    rows = json.loads(out.stdout)
    keys = {(r["dataset"], r["protocol"], r["strategy"]) for r in rows}
    strategies = {"served (seen shown)", "served (seen hidden)", "popularity", "ar", "sr", "sknn", "vsknn"}
    assert keys == {
        (d, p, s) for d in ("yoochoose", "instacart") for p in ("next_item", "discovery") for s in strategies
    }
    assert all({"hr@20", "mrr@20", "hr@20_ci", "mrr@20_ci", "coverage@20", "test_sessions"} <= set(r) for r in rows)
    assert sum(r["shipped"] for r in rows) == 4  # one served row per data set and protocol
    assert "testing on" in out.stderr  # progress goes to stderr, the JSON alone to stdout
    stored = basirat(tmp_path, "sql", "SELECT count() AS n FROM rec_offline_results", "--format", "CSV").stdout
    assert stored.strip() == str(len(rows))


def ring_sessions(path, sessions: int = 300) -> None:
    """A session file whose next click is learnable: visitors walk a ring of 20 products, a day apart."""
    lines = ["SessionId\tItemId\tTime"]
    for s in range(sessions):
        for i in range(3):
            lines.append(f"{s}\tp{(s + i) % 20}\t{1_700_000_000 + s * 1200 + i * 60}")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.process
def test_evaluate_and_tune_any_session_file(tmp_path):
    ring_sessions(tmp_path / "ring.tsv")
    out = basirat(tmp_path, "evaluate", "--dataset", str(tmp_path / "ring.tsv"), "--no-store")
    assert "next item protocol" in out.stdout and "discovery protocol" in out.stdout and "<- shipped" in out.stdout
    ring, out_file = str(tmp_path / "ring.tsv"), str(tmp_path / "t.json")
    tuned = basirat(tmp_path, "tune", "--dataset", ring, "--draws", "2", "--out", out_file)
    record = json.loads((tmp_path / "t.json").read_text())
    values = dict(record["chosen"]["values"])
    assert len(record["results"]) > 1 and values.pop("discovery") in [r["values"] for r in record["results"]]
    assert values in [r["values"] for r in record["results"]]
    assert len(record["baselines"]["vsknn"]["results"]) == 3  # session-rec's defaults and two draws
    assert "served:" in tuned.stdout and "vsknn:" in tuned.stdout
    (tmp_path / "bad.tsv").write_text("session,item\n1,a\n")
    bad = basirat(tmp_path, "evaluate", "--dataset", str(tmp_path / "bad.tsv"), "--no-store", check=False)
    assert bad.returncode == 1 and "missing column(s) ItemId, SessionId, Time" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.process
def test_evaluate_a_sites_own_visits(tmp_path):
    site = json.loads(basirat(tmp_path, "sites", "create", "Shop", "--json").stdout)
    unknown = basirat(tmp_path, "evaluate", "--site", "s_nope", check=False)
    assert unknown.returncode == 1 and "no site" in unknown.stderr
    empty = basirat(tmp_path, "evaluate", "--site", site["site_id"], check=False)
    assert empty.returncode == 1 and "no sessions" in empty.stderr and "Traceback" not in empty.stderr


@pytest.mark.process
def test_evaluate_clv_reports_the_cdnow_fit(tmp_path):
    out = basirat(tmp_path, "evaluate", "--clv", "--data-dir", str(data_dir()))
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    fitted = ast.literal_eval(lines["bgnbd"])
    # Close to the published BG/NBD fit on CDNOW (Fader, Hardie and Lee 2005).
    for name, published, tolerance in (
        ("r", 0.243, 0.05),
        ("alpha", 4.414, 1.0),
        ("a", 0.793, 0.15),
        ("b", 2.426, 0.5),
    ):
        assert abs(fitted[name] - published) < tolerance, (name, fitted[name])
    assert float(lines["mae"]) < float(lines["baseline_mae"])
    assert float(lines["churn_auc"]) > float(lines["recency_auc"])


def _post(url: str, key: str, payload: dict) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
        },
    )
    urllib.request.urlopen(request, timeout=10).close()


def _segment(row: dict) -> dict:
    message = {
        "type": row["type"],
        "messageId": row["message_id"],
        "anonymousId": row["anonymous_id"],
        "timestamp": row["timestamp"].strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if row["user_id"]:
        message["userId"] = row["user_id"]
    if row["type"] == "track":
        message["event"] = row["event"]
        props = {"product_id": row["product_id"], "category": row["category"], "price": row["price"]}
        if row["event"] == "Order Completed":
            props = {
                "order_id": row["order_id"],
                "products": [{"product_id": i, "price": 10.0, "quantity": 1} for i in row["item_ids"]],
            }
        message["properties"] = props
    return message


@pytest.mark.process
def test_serve_mines_and_answers_from_memory(tmp_path):
    server = LiveServer(tmp_path, env={"BASIRAT_RECOMMENDER_POLL_SECONDS": "0.5"}).start()
    try:
        site = json.loads(basirat(tmp_path, "sites", "create", "Shop", "--domain", "shop.example", "--json").stdout)
        batch = [_segment(r) for r in store_history(site["site_id"]) if r["type"] == "track"]
        _post(server.url + "/v1/batch", site["write_key"], {"batch": batch})
        server.wait_for("SELECT count() AS n FROM events", lambda rows: rows[0]["n"] >= len(batch))
        ran = basirat(tmp_path, "jobs", "run")
        assert "rules:" in ran.stdout and "sessions:" in ran.stdout
        url = f"{server.url}/v1/recommendations?key={site['public_key']}&context=cart&itemId=lamp"
        deadline = time.monotonic() + 20
        while True:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = json.loads(response.read())
            if body["strategy"] == "bought_together" or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert body["strategy"] == "bought_together" and body["items"][0]["itemId"] == "bulb"
    finally:
        server.stop()
    assert "Scheduler started" in (tmp_path / "serve.log").read_text()


def test_job_ids_are_unique():
    """The scheduler replaces a job by id: two jobs with one id would lose one."""
    ids = [job.id for job in JOBS]
    assert len(ids) == len(set(ids))
