"""The Segment HTTP API against both backends: answers, spool, loader, dedup."""

import base64
import gzip
import json
import uuid

import pytest

import collector
from collector.loader import Loader


@pytest.fixture
def app(warehouse, tmp_path):
    app = collector.create_app({"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool")}, warehouse=warehouse)
    yield app
    app.extensions["basirat.collector"].spool.close()


@pytest.fixture
def client(app):
    return app.test_client()


def load(app, warehouse):
    return Loader(warehouse, app.config["SPOOL_DIR"]).drain()


def auth(key):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def track(**extra):
    return {
        "type": "track",
        "event": "Product Viewed",
        "anonymousId": "anon-1",
        "messageId": uuid.uuid4().hex,
        "properties": {"product_id": "p1", "price": 9.99},
        **extra,
    }


def stored(warehouse, site_id):
    return warehouse.query(
        "SELECT message_id, type, event, product_id, anonymous_id FROM events "
        "WHERE site_id = {s:String} ORDER BY message_id",
        {"s": site_id},
    )


def test_batch_is_acknowledged_and_loaded(app, client, warehouse, site):
    batch = [
        track(),
        track(type="page", name="Home"),
        {
            "type": "identify",
            "userId": "u1",
            "anonymousId": "anon-1",
            "messageId": "id-1",
            "traits": {"email": "x@example.com"},
        },
    ]
    response = client.post("/v1/batch", json={"batch": batch}, headers=auth(site["write_key"]))
    assert response.status_code == 200 and response.json == {"success": True}
    assert load(app, warehouse) == 3
    assert sorted(r["type"] for r in stored(warehouse, site["site_id"])) == ["identify", "page", "track"]


def test_write_key_in_the_body_and_gzip(app, client, warehouse, site):
    body = gzip.compress(json.dumps({"writeKey": site["write_key"], **track()}).encode())
    response = client.post("/v1/track", data=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})
    assert response.status_code == 200
    load(app, warehouse)
    assert len(stored(warehouse, site["site_id"])) == 1


@pytest.mark.parametrize(
    "headers, body, status, error",
    [
        ({}, {"batch": []}, 401, "missing_write_key"),
        (auth("wk_nope"), {"batch": []}, 401, "unknown_write_key"),
    ],
)
def test_keys_are_checked(client, headers, body, status, error):
    response = client.post("/v1/batch", json=body, headers=headers)
    assert response.status_code == status and response.json["error"] == error


def test_bad_json_and_oversize_bodies(client, site):
    response = client.post("/v1/batch", data=b"{nope", headers=auth(site["write_key"]))
    assert response.status_code == 400 and response.json["error"] == "bad_json"
    response = client.post("/v1/batch", data=b"x" * (600 * 1024), headers=auth(site["write_key"]))
    assert response.status_code == 413 and response.json["error"] == "batch_too_large"


def test_a_bad_message_does_not_sink_the_good_ones(app, client, warehouse, site):
    good = track()
    batch = [good, track(type="jump"), track(anonymousId=None), track(properties={"blob": "x" * 40_000})]
    response = client.post("/v1/batch", json={"batch": batch}, headers=auth(site["write_key"]))
    assert response.status_code == 413
    body = response.json
    assert body["accepted"] == 1
    assert [(r["index"], r["error"]) for r in body["rejected"]] == [
        (1, "bad_type"),
        (2, "no_identity"),
        (3, "message_too_large"),
    ]
    load(app, warehouse)
    assert [r["message_id"] for r in stored(warehouse, site["site_id"])] == [good["messageId"]]


def test_resent_messages_are_stored_once(app, client, warehouse, site):
    batch = [track() for _ in range(5)]
    for _ in range(3):
        assert (
            client.post("/v1/batch", json={"batch": batch + batch[:2]}, headers=auth(site["write_key"])).status_code
            == 200
        )
        load(app, warehouse)
    assert len(stored(warehouse, site["site_id"])) == 5


def test_rejections_are_counted_by_reason(client, site):
    before = client.get("/metrics").get_data(as_text=True)
    client.post("/v1/track", json={"type": "track"}, headers=auth(site["write_key"]))
    after = client.get("/metrics").get_data(as_text=True)

    def count(text):
        line = [x for x in text.splitlines() if 'reason="no_identity"' in x]
        return float(line[0].split()[-1]) if line else 0.0

    assert count(after) == count(before) + 1


def test_unknown_paths_and_methods_answer_json(client):
    assert client.post("/v1/nothing", json={}).json["error"] == "not_found"
    assert client.get("/v1/track").status_code == 405
