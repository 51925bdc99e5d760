"""Webhook targets: internal addresses written in IPv6 forms, and multicast, are refused."""

from __future__ import annotations

import pytest

from activation.webhooks import WebhookRefused, validate_target


@pytest.mark.parametrize(
    "host",
    [
        "[::127.0.0.1]",  # IPv4-compatible
        "[::ffff:0:7f00:1]",  # IPv4-translated
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "[64:ff9b:1::a00:1]",  # NAT64, local-use prefix
        "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "[2002:a00:1::1]",  # 6to4 of 10.0.0.1
    ],
)
def test_internal_addresses_carried_in_ipv6_are_refused(host):
    with pytest.raises(WebhookRefused, match="non-public"):
        validate_target(f"http://{host}/hook")


@pytest.mark.parametrize("host", ["224.0.0.1", "239.255.255.250", "255.255.255.255", "[ff02::1]", "[::ffff:224.0.0.1]"])
def test_multicast_and_broadcast_are_refused_even_where_private_addresses_are_allowed(host):
    with pytest.raises(WebhookRefused, match="not unicast"):
        validate_target(f"http://{host}/hook", allow_private=True)


@pytest.mark.parametrize("host", ["8.8.8.8", "[2606:4700:4700::1111]", "[64:ff9b::808:808]", "[2002:808:808::1]"])
def test_public_addresses_stay_allowed(host):
    assert validate_target(f"https://{host}/hook")[0] == "https"
