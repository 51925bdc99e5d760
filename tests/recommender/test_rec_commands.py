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


@pytest.mark.process
def test_evaluate_prints_json_per_strategy(tmp_path):
    out = basirat(tmp_path, "evaluate", "--sessions", "150", "--json", "--data-dir", str(data_dir()))
    rows = {row["strategy"]: row for row in json.loads(out.stdout)}
    assert {"popularity", "ar", "sknn", "stan"} <= set(rows)
    assert all({"hr@20", "mrr@20", "coverage@20", "popularity@20"} <= set(r) for r in rows.values())
    assert rows["stan"]["shipped"] and 0 < rows["stan"]["hr@20"] <= 1
    assert "testing on" in out.stderr  # progress goes to stderr, the JSON alone to stdout
    stored = basirat(tmp_path, "sql", "SELECT count() AS n FROM rec_evaluations", "--format", "CSV").stdout
    assert stored.strip() == str(len(rows))


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
