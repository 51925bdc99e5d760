"""One site cannot fill the spool and make every other site's events answer 503."""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid

import collector
from collector import spool as spool_module
from collector.loader import Loader
from collector.records import request_record
from collector.spool import Spool
from tests.conftest import new_site


def auth(site):
    return {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()}


def batch(n: int = 10):
    return {
        "batch": [
            {"type": "track", "event": "Product Viewed", "anonymousId": "a", "messageId": uuid.uuid4().hex}
            for _ in range(n)
        ]
    }


def flood(client, site, limit: int = 200) -> int:
    """Batches until the first 503; how many were accepted."""
    for sent in range(limit):
        answer = client.post("/v1/batch", json=batch(), headers=auth(site))
        if answer.status_code == 503:
            assert answer.json["error"] == "spool_full" and answer.headers["Retry-After"]
            return sent
        assert answer.status_code == 200
    raise AssertionError("the spool never filled")


def collector_app(warehouse, tmp_path, **config):
    settings = {"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool"), "SPOOL_MAX_BYTES": 40_000, **config}
    return collector.create_app(settings, warehouse=warehouse)


def test_a_site_filling_the_spool_leaves_room_for_a_site_that_waits(chdb_warehouse, tmp_path):
    hog, other = new_site(chdb_warehouse), new_site(chdb_warehouse)
    app = collector_app(chdb_warehouse, tmp_path)
    client = app.test_client()
    assert client.post("/v1/batch", json=batch(2), headers=auth(other)).status_code == 200
    flood(client, hog)
    for _ in range(5):  # the rest of the spool is still there for everyone else
        assert client.post("/v1/batch", json=batch(), headers=auth(other)).status_code == 200
    spool = app.extensions["basirat.collector"].spool
    held = spool.site_bytes()[hog["site_id"]]
    assert held <= 0.5 * 40_000 < held + 4_000
    spool.close()


def test_a_site_refused_for_room_makes_the_site_that_filled_it_wait_its_turn(chdb_warehouse, tmp_path):
    hog, other = new_site(chdb_warehouse), new_site(chdb_warehouse)
    app = collector_app(chdb_warehouse, tmp_path)
    client = app.test_client()
    alone = flood(client, hog)  # nobody else waits: the whole spool
    assert client.post("/v1/batch", json=batch(), headers=auth(other)).status_code == 503
    assert Loader(chdb_warehouse, app.config["SPOOL_DIR"]).drain() == 10 * alone
    again = flood(client, hog)  # now the other site waits: the hog gets its share only
    assert again <= alone // 2 + 1
    assert client.post("/v1/batch", json=batch(), headers=auth(other)).status_code == 200
    app.extensions["basirat.collector"].spool.close()


def test_a_single_site_may_use_the_whole_spool(chdb_warehouse, tmp_path):
    site = new_site(chdb_warehouse)
    app = collector_app(chdb_warehouse, tmp_path)
    client = app.test_client()
    flood(client, site)
    spool = app.extensions["basirat.collector"].spool
    assert spool.used_bytes() > 0.8 * 40_000
    spool.close()


def test_writers_of_other_processes_count_each_site_and_loading_frees_it(chdb_warehouse, tmp_path, monkeypatch):
    monkeypatch.setattr(spool_module, "ACCOUNTING_SECONDS", 0.0)
    site = new_site(chdb_warehouse)
    folder = str(tmp_path / "spool")
    writer, reader = Spool(folder, site_share=0.5), Spool(folder, site_share=0.5)
    for _ in range(5):
        writer.append([request_record([], site["site_id"], dt.datetime(2026, 1, 1), "", "")], site["site_id"])
    assert reader.site_bytes()[site["site_id"]] == writer.site_bytes()[site["site_id"]] > 0
    writer.close()
    Loader(chdb_warehouse, folder).drain()
    assert reader.site_bytes().get(site["site_id"], 0) == 0
    assert not [n for n in os.listdir(os.path.join(folder, "sites")) if n.endswith(".json")]
