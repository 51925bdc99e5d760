"""Privacy defaults: IPs anonymized before storage, DNT / GPC honoured server-side."""

import base64
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


def send(app, warehouse, site, headers=None, **extra):
    auth = {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()}
    msg = {
        "type": "track",
        "event": "Product Viewed",
        "anonymousId": "visitor-1",
        "userId": "customer-9",
        "messageId": uuid.uuid4().hex,
        "properties": {"product_id": "p1"},
        "traits": {"email": "a@example.com"},
        "context": {"ip": "203.0.113.77", "userAgent": "Mozilla/5.0 Firefox", "device": {"id": "dev-1"}},
        **extra,
    }
    response = app.test_client().post("/v1/track", json=msg, headers={**auth, **(headers or {})})
    assert response.status_code == 200
    Loader(warehouse, app.config["SPOOL_DIR"]).drain()
    return warehouse.query(
        "SELECT anonymous_id, user_id, ip, user_agent, traits, context, product_id, flags FROM events "
        "WHERE site_id = {s:String} AND message_id = {m:String}",
        {"s": site["site_id"], "m": msg["messageId"]},
    )[0]


def test_ip_is_anonymized_before_storage_by_default(app, warehouse, site):
    stored = send(app, warehouse, site)
    assert stored["ip"] == "203.0.113.0"
    assert json.loads(stored["context"])["ip"] == "203.0.113.0"
    assert "203.0.113.77" not in json.dumps(stored, default=str)
    assert stored["anonymous_id"] == "visitor-1" and "opt_out" not in stored["flags"]


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}])
def test_do_not_track_and_gpc_keep_the_event_but_not_the_person(app, warehouse, site, header):
    first = send(app, warehouse, site, header)
    second = send(app, warehouse, site, header)
    assert first["product_id"] == "p1" and "opt_out" in first["flags"]
    assert first["ip"] == "" and first["user_agent"] == "" and first["user_id"] == ""
    assert first["traits"] == "{}"
    assert "203.0.113" not in first["context"] and "dev-1" not in first["context"] and "Firefox" not in first["context"]
    # A pseudonym for the day: the visit hangs together, the visitor id is gone.
    assert first["anonymous_id"].startswith("optout-") and "visitor-1" not in first["anonymous_id"]
    assert first["anonymous_id"] == second["anonymous_id"]


def test_dnt_zero_and_the_setting_off_change_nothing(warehouse, site, tmp_path):
    app = collector.create_app(
        {"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool"), "HONOUR_DNT": False}, warehouse=warehouse
    )
    try:
        assert send(app, warehouse, site, {"DNT": "1"})["anonymous_id"] == "visitor-1"
    finally:
        app.extensions["basirat.collector"].spool.close()
    app = collector.create_app({"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool2")}, warehouse=warehouse)
    try:
        assert send(app, warehouse, site, {"DNT": "0"})["user_id"] == "customer-9"
    finally:
        app.extensions["basirat.collector"].spool.close()


def test_quarantined_messages_keep_no_full_ip(app, warehouse, site):
    auth = {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()}
    refused = {"type": "track", "anonymousId": "v", "event": 7, "context": {"ip": "198.51.100.23"}}
    answer = app.test_client().post("/v1/track", json=refused, headers=auth)
    assert answer.status_code == 400
    Loader(warehouse, app.config["SPOOL_DIR"]).drain()
    rows = warehouse.query("SELECT raw FROM quarantine WHERE site_id = {s:String}", {"s": site["site_id"]})
    assert len(rows) == 1 and json.loads(rows[0]["raw"])["context"]["ip"] == "198.51.100.0"
