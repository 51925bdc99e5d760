"""The client address behind reverse proxies: the right-most hop that is not a trusted proxy."""

from __future__ import annotations

import base64
import uuid

import pytest

import collector
from core import settings
from core.proxies import client_address


def _config(**values):
    return {"TRUST_PROXY": False, "TRUSTED_PROXIES": "", **values}


def test_without_a_trusted_proxy_forwarded_for_is_ignored():
    assert client_address("198.51.100.1", "203.0.113.9", _config()) == "198.51.100.1"


def test_trust_proxy_alone_means_one_proxy_and_the_entry_it_appended():
    config = _config(TRUST_PROXY=True)
    assert client_address("10.0.0.2", "1.1.1.1, 2.2.2.2, 203.0.113.9", config) == "203.0.113.9"
    assert client_address("10.0.0.2", "", config) == "10.0.0.2"  # not forwarded: who connected


def test_a_count_of_proxies_skips_that_many_hops_from_the_right():
    config = _config(TRUSTED_PROXIES="2")
    assert client_address("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.1", config) == "203.0.113.9"
    assert client_address("10.0.0.2", "203.0.113.9", config) == "203.0.113.9"  # fewer hops: the left-most
    assert client_address("10.0.0.2", "", _config(TRUSTED_PROXIES="0", TRUST_PROXY=True)) == "10.0.0.2"


def test_networks_of_proxies_find_the_first_untrusted_hop_from_the_right():
    config = _config(TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1 ::1")
    assert client_address("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.1.2.3", config) == "203.0.113.9"
    assert client_address("::1", "[2001:db8::7]:5123", config) == "2001:db8::7"
    # a client that connects directly cannot name another address
    assert client_address("198.51.100.1", "203.0.113.9", config) == "198.51.100.1"


def test_a_bad_trusted_proxies_value_stops_start_up():
    with pytest.raises(settings.SettingsError, match="TRUSTED_PROXIES"):
        settings.load(environ={"BASIRAT_TRUSTED_PROXIES": "the load balancer"})
    assert settings.load(environ={"BASIRAT_TRUSTED_PROXIES": "10.0.0.0/8,fd00::/8"})["TRUSTED_PROXIES"]


def test_rotating_the_first_forwarded_entry_does_not_escape_the_ip_limit(chdb_warehouse, tmp_path):
    """Behind a proxy the limit once keyed on the left-most, client-written entry: 20 of 20 passed."""
    from tests.conftest import new_site

    site = new_site(chdb_warehouse)
    app = collector.create_app(
        {"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool"), "TRUST_PROXY": True, "IP_RATE_LIMIT": 5},
        warehouse=chdb_warehouse,
    )
    client = app.test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()}
    accepted = 0
    for n in range(20):
        headers = {**auth, "X-Forwarded-For": f"192.0.2.{n}, 203.0.113.9"}  # the proxy appended the last entry
        message = {"type": "track", "event": "Product Viewed", "anonymousId": "a", "messageId": uuid.uuid4().hex}
        accepted += client.post("/v1/track", json=message, headers=headers).status_code == 200
    app.extensions["basirat.collector"].spool.close()
    assert accepted < 12
