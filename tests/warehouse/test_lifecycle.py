"""Migrations that rewrite tables keep every row, on chDB, on Debian's 18.16 server and on the cluster.

Each backend gets a fresh warehouse migrated up to the rewrites, filled,
then migrated the rest of the way (see lifecycle_check). chDB opens one
folder per process, so its run is a process of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.warehouse import lifecycle_check

ROOT = Path(__file__).resolve().parents[2]
REWRITES = ["0150_events_by_date", "0151_visit_slots_any_gap", "0152_deliveries_by_month"]


def assert_rewritten(result: dict, extra_event: int = 1) -> None:
    assert result["applied"][: len(REWRITES)] == REWRITES
    assert result["again"] == []  # recorded: a second run applies nothing
    assert result["after"] == result["before"]  # every row kept
    assert result["before"]["events"] == len(lifecycle_check.history())
    # The views over events were made again over the new table: a new event reaches them.
    assert result["fed"]["events"] == result["after"]["events"] + extra_event
    assert result["fed"]["event_ids"] == result["after"]["event_ids"] + extra_event
    assert result["fed"]["visit_slots"] == result["after"]["visit_slots"] + extra_event
    assert "ORDER BY (site_id, toDate(timestamp), anonymous_id, message_id)" in result["events"]
    assert "PARTITION BY toYYYYMM(sent_at)" in result["webhook_deliveries"]
    # The model tables keep each run in a partition of their own.
    assert {"0168_models_by_run", "0172_scores_by_run"} <= set(result["applied"])
    assert len(result["models"]) == 5
    assert all("PARTITION BY model_version" in model for model in result["models"])
    # Rows stored under the 30-minute rollup were recomputed: the gap is chosen when read.
    assert {int(minutes): n for minutes, n in result["visits"].items()} == {10: [2], 30: [1]}
    assert result["leftovers"] == []


@pytest.mark.process
def test_rewrites_keep_rows_on_chdb(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "tests.warehouse.lifecycle_check", f"chdb://{tmp_path}/warehouse"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert_rewritten(result)
    # A retention TTL in force on the old tables is kept by the new ones.
    assert set(result["ttl_days"].values()) == {lifecycle_check.KEEP_DAYS}


def test_rewrites_keep_rows_on_the_server(server_warehouse):
    url = server_warehouse.url.rsplit("/", 1)[0] + f"/rewrite_{uuid.uuid4().hex[:8]}"
    result = lifecycle_check.check(url, cluster=server_warehouse.cluster)
    assert_rewritten(result)
