"""/metrics: loopback clients only by default, or whoever holds BASIRAT_METRICS_TOKEN."""

from __future__ import annotations

import pytest

import collector


def app_with(warehouse, tmp_path, **config):
    settings = {"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool"), **config}
    return collector.create_app(settings, warehouse=warehouse)


@pytest.fixture
def client(chdb_warehouse, tmp_path):
    app = app_with(chdb_warehouse, tmp_path)
    yield app.test_client()
    app.extensions["basirat.collector"].spool.close()


def test_a_client_from_elsewhere_is_refused(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403 and "basirat_accepted_total" not in response.get_data(as_text=True)


def test_a_request_forwarded_by_a_proxy_on_this_machine_is_refused(client):
    for header in ({"X-Forwarded-For": "203.0.113.9"}, {"Forwarded": "for=203.0.113.9"}):
        assert client.get("/metrics", headers=header).status_code == 403


def test_loopback_reads_them(client):
    for address in ("127.0.0.1", "::1"):
        response = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200 and "basirat_accepted_total" in response.get_data(as_text=True)


def test_with_a_token_everyone_needs_it_and_it_opens_them_from_anywhere(chdb_warehouse, tmp_path):
    app = app_with(chdb_warehouse, tmp_path, METRICS_TOKEN="s3cret-scrape")
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    remote = {"REMOTE_ADDR": "203.0.113.9"}
    good = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"}, environ_base=remote)
    assert good.status_code == 200 and "basirat_accepted_total" in good.get_data(as_text=True)
    app.extensions["basirat.collector"].spool.close()
