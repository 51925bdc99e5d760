"""The snippet and the OpenAPI document name the configured public URL, never the request's Host."""

from __future__ import annotations

import logging
import re

from core import settings
from tests.conftest import new_site
from tests.support.webapp_helpers import make_app, make_user

EVIL = "evil.example"
AT_EVIL = {"base_url": f"http://{EVIL}"}  # the request's Host header, and the cookies' domain with it
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in_at_evil(app, warehouse):
    """A browser that reached the admin under a Host header of an attacker's choosing."""
    email, password = make_user(warehouse)
    client = app.test_client()
    token = _TOKEN.search(client.get("/login", **AT_EVIL).get_data(as_text=True)).group(1)
    form = {"email": email, "password": password, "csrf_token": token}
    assert client.post("/login", data=form, **AT_EVIL).status_code == 302
    return client


def test_the_snippet_never_takes_the_host_header(chdb_warehouse):
    app = make_app(chdb_warehouse, COLLECTOR_URL="", HOST="127.0.0.1", PORT=8123)
    site = new_site(chdb_warehouse)
    client = signed_in_at_evil(app, chdb_warehouse)
    page = client.get(f"/s/{site['site_id']}/settings", **AT_EVIL).get_data(as_text=True)
    assert EVIL not in page
    assert "http://127.0.0.1:8123/t.js" in page


def test_a_configured_collector_url_is_used_as_given(chdb_warehouse):
    app = make_app(chdb_warehouse, COLLECTOR_URL="https://t.shop.example/")
    site = new_site(chdb_warehouse)
    client = signed_in_at_evil(app, chdb_warehouse)
    page = client.get(f"/s/{site['site_id']}/settings", **AT_EVIL).get_data(as_text=True)
    assert "https://t.shop.example/t.js" in page and EVIL not in page


def test_the_openapi_servers_never_take_the_host_header(chdb_warehouse):
    app = make_app(chdb_warehouse)
    doc = app.test_client().get("/api/openapi.json", **AT_EVIL).get_json()
    assert doc["servers"] == [{"url": "/"}]


def test_the_token_page_does_not_echo_the_host_header(chdb_warehouse):
    app = make_app(chdb_warehouse)
    client = signed_in_at_evil(app, chdb_warehouse)
    token = _TOKEN.search(client.get("/tokens", **AT_EVIL).get_data(as_text=True)).group(1)
    page = client.post("/tokens", data={"label": "x", "csrf_token": token}, **AT_EVIL)
    assert page.status_code == 200 and EVIL not in page.get_data(as_text=True)


def test_a_default_is_derived_from_host_and_port_with_a_warning_at_start(chdb_warehouse, caplog):
    assert settings.collector_url({"COLLECTOR_URL": "", "HOST": "0.0.0.0", "PORT": 8000}) == "http://127.0.0.1:8000"
    assert settings.collector_url({"COLLECTOR_URL": "", "HOST": "::", "PORT": 80}) == "http://[::1]:80"
    with caplog.at_level(logging.WARNING, logger="webapp"):
        make_app(chdb_warehouse, COLLECTOR_URL="", HOST="127.0.0.1", PORT=8000)
    assert "BASIRAT_COLLECTOR_URL is not set" in caplog.text and "http://127.0.0.1:8000" in caplog.text
