"""Webhooks: tell a store's systems when people enter or leave segments.

Each POST carries a JSON batch of moves and a ``Basirat-Signature`` header,
``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body, keyed by the secret>``,
so the receiver can check origin and reject replays (``verify``).

Targets are checked before any byte is sent: http(s) only, no credentials in
the URL, and every address the name resolves to must be public, unless the
operator allows private ones (``BASIRAT_WEBHOOK_ALLOW_PRIVATE``). An IPv6
address that carries an IPv4 one (IPv4-mapped, -compatible or -translated,
NAT64, 6to4, Teredo) is judged by the IPv4 address too, and multicast,
broadcast and unspecified addresses are never called. The
connection goes to the address that was checked, so a second DNS answer cannot
swap in an internal one, and redirects are never followed. Attempts are
bounded; 4xx answers other than 429 are not retried.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

SIGNATURE_HEADER = "Basirat-Signature"
BATCH = 500


class WebhookRefused(ValueError):
    """The target may not be called (scheme, credentials, private address, redirect)."""


@dataclass(frozen=True)
class WebhookOptions:
    allow_private: bool = False
    timeout: float = 5.0
    max_attempts: int = 3
    backoff: float = 1.0

    @classmethod
    def from_settings(cls, config: dict) -> "WebhookOptions":
        return cls(
            allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE"]),
            timeout=float(config["WEBHOOK_TIMEOUT"]),
            max_attempts=max(1, int(config["WEBHOOK_MAX_ATTEMPTS"])),
        )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver runs: the signature matches and is fresh."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local use: where the IPv4 part sits varies
_BROADCAST = ipaddress.ip_address("255.255.255.255")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to, by any of the ways of carrying one."""
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    found += list(ip.teredo or ())
    high = int(ip) >> 32
    if high == 0 and int(ip) > 1:  # IPv4-compatible, ::a.b.c.d
        found.append(low)
    if high == 0xFFFF0000 or ip in _NAT64:  # IPv4-translated ::ffff:0:a.b.c.d; NAT64
        found.append(low)
    return found


def _unicast(ip) -> bool:
    return not (ip.is_multicast or ip.is_unspecified or ip == _BROADCAST)


def _public(ip) -> bool:
    if not ip.is_global or not _unicast(ip):
        return False
    if ip.version == 6:
        return ip not in _NAT64_LOCAL and all(_public(v4) for v4 in embedded_ipv4(ip))
    return True


def validate_target(url: str, allow_private: bool = False) -> tuple[str, str]:
    """The (scheme, address) to connect to, or ``WebhookRefused`` saying why not."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("webhook URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise WebhookRefused("webhook URL must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise WebhookRefused(f"cannot resolve webhook host {parts.hostname!r}: {exc}") from None
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        carried = embedded_ipv4(ip) if ip.version == 6 else []
        if not all(_unicast(a) for a in [ip, *carried]):
            raise WebhookRefused(f"webhook host {parts.hostname!r} resolves to non-public address {ip}, not unicast")
        if not allow_private and not _public(ip):
            raise WebhookRefused(
                f"webhook host {parts.hostname!r} resolves to non-public address {ip}; "
                "set BASIRAT_WEBHOOK_ALLOW_PRIVATE=true to allow it"
            )
    return parts.scheme, addresses[0]


def _post(url: str, address: str, body: bytes, headers: dict, timeout: float) -> int:
    parts = urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = kind(parts.hostname, parts.port, timeout=timeout)
    # Connect to the checked address; TLS still verifies the certificate for the host name.
    conn._create_connection = lambda addr, *args, **kw: socket.create_connection((address, addr[1]), *args, **kw)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def deliver(url: str, secret: str, payload: dict, options: WebhookOptions) -> dict:
    """POST one signed payload with bounded retries; returns status, attempts and the last error."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    try:
        _, address = validate_target(url, options.allow_private)
    except WebhookRefused as exc:
        return {"status": 0, "attempts": 0, "error": str(exc)}
    status, error, attempt = 0, "", 0
    for attempt in range(1, options.max_attempts + 1):
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Basirat-Webhooks/1",
            SIGNATURE_HEADER: sign(secret, int(time.time()), body),
        }
        try:
            status, error = _post(url, address, body, headers, options.timeout), ""
        except (OSError, http.client.HTTPException) as exc:
            status, error = 0, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            return {"status": status, "attempts": attempt, "error": ""}
        if 300 <= status < 400:
            return {"status": status, "attempts": attempt, "error": "redirect refused"}
        if 400 <= status < 500 and status != 429:
            return {"status": status, "attempts": attempt, "error": f"HTTP {status}"}
        error = error or f"HTTP {status}"
        if attempt < options.max_attempts:
            time.sleep(options.backoff * 2 ** (attempt - 1))
    return {"status": status, "attempts": attempt, "error": error}


def moves(changes, site_id: str, segments: list[str]) -> list[dict]:
    """Entries and exits (not revaluations) as webhook events, filtered to the subscribed segments."""
    chosen = changes[changes["change"].isin(["entered", "left"])]
    if segments:
        chosen = chosen[chosen["segment"].isin(segments)]
    return [
        {
            "type": f"segment.{row.change}",
            "site_id": site_id,
            "segment": row.segment,
            "person_id": row.person_id,
            "at": (row.entered_at if row.change == "entered" else row.left_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "value": float(row.value),
        }
        for row in chosen.itertuples()
    ]


def notify(hooks: list[dict], site_id: str, changes, options: WebhookOptions) -> list[dict]:
    """Deliver a site's moves to each subscribed hook in batches; one record per POST."""
    records = []
    for hook in hooks:
        found = moves(changes, site_id, list(hook["segments"]))
        for start in range(0, len(found), BATCH):
            batch = found[start : start + BATCH]
            delivery_id = "dl_" + uuid.uuid4().hex[:16]
            result = deliver(hook["url"], hook["secret"], {"id": delivery_id, "events": batch}, options)
            records.append(
                {
                    "site_id": site_id,
                    "webhook_id": hook["webhook_id"],
                    "delivery_id": delivery_id,
                    "events": len(batch),
                    **result,
                    "sent_at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                }
            )
    return records
