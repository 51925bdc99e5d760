"""The client's address behind reverse proxies: the right-most hop we do not trust.

Each proxy appends the address it received the request from to
``X-Forwarded-For``, so only the entries our own proxies appended can be
believed; anything to their left was written by the client. The client is
therefore found from the right: skip the hops that are trusted proxies, and
the first one that is not is the client.

``BASIRAT_TRUSTED_PROXIES`` says which hops are trusted, as a count (the
number of proxies in front, each appending one entry) or as networks
(``10.0.0.0/8, ::1``: any hop in them is a proxy). Empty means one proxy when
``BASIRAT_TRUST_PROXY`` is on and none otherwise, so a request that did not
come through a trusted proxy is always keyed by the address that connected.
"""

from __future__ import annotations

import functools
import ipaddress

Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


@functools.lru_cache(maxsize=16)
def parse_trusted(text: str) -> int | Networks:
    """A count of proxies, or the networks they are in; ValueError on anything else."""
    text = text.strip()
    if not text:
        return 0
    if text.isdigit():
        return int(text)
    parts = [part for part in text.replace(",", " ").split() if part]
    try:
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)
    except ValueError:
        raise ValueError(f"{text!r} is neither a number of proxies nor networks (like 10.0.0.0/8, ::1)") from None


def trusted(config) -> int | Networks:
    """The trusted proxies of a configuration; TRUST_PROXY alone means one."""
    chosen = parse_trusted(str(config.get("TRUSTED_PROXIES") or ""))
    if chosen == 0 and config.get("TRUST_PROXY"):
        return 1
    return chosen


def _address(hop: str):
    """The IP address of one hop (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``), or None."""
    text = hop.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(remote_addr: str, forwarded_for: str, config) -> str:
    """The client's address: ``remote_addr`` unless trusted proxies forwarded the request."""
    proxies = trusted(config)
    remote_addr = remote_addr or ""
    if not proxies or not forwarded_for:
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()] + [remote_addr]
    if isinstance(proxies, int):
        # the proxy nearest to us connected; the one furthest appended the client
        return _clean(hops[max(0, len(hops) - 1 - proxies)])
    for hop in reversed(hops):
        ip = _address(hop)
        if ip is None or not any(ip in network for network in proxies if network.version == ip.version):
            return _clean(hop)
    return _clean(hops[0])


def _clean(hop: str) -> str:
    ip = _address(hop)
    return str(ip) if ip is not None else hop[:64]
