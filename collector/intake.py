"""The request path of ``POST /v1/<kind>``, framework-free.

Every tracked event passes here, and Flask's request and response objects
cost about as much CPU as the checks that decide the answer. So the intake is
a plain WSGI callable in front of the Flask app (as the recommendation
endpoint is); preflights, ``/healthz``, ``/metrics`` and ``t.js`` stay Flask
routes. A request answers 200 only after its rows are in the durable spool.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from http import HTTPStatus

import orjson
from werkzeug.datastructures import EnvironHeaders

from core.limits import client_ip

from .keys import KeysUnavailable
from .metrics import METRICS
from .pipeline import REASONS, Rejected, anonymize_ip, decode_body, messages_of, opted_out, parse_json, validate
from .records import held_row, request_record
from .spool import SpoolFull
from .trust import request_trust

log = logging.getLogger(__name__)

PREFIX = "/v1/"
ROUTES = {
    "batch": None,
    "import": None,
    "track": "track",
    "page": "page",
    "identify": "identify",
    "alias": "alias",
    "screen": "screen",
    "group": "group",
}
QUARANTINED = ("bad_schema", "bad_type", "no_identity", "message_too_large")
SUCCESS = b'{"success":true}\n'
# On every collector answer, posts and preflights alike: the tracker posts
# from the store's own pages, and the write key is public.
CORS = [
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding"),
    ("Access-Control-Allow-Methods", "POST, GET, OPTIONS"),
    ("Access-Control-Max-Age", "86400"),
    ("Vary", "Origin"),
]
STATUS = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 400, 401, 404, 413, 429, 500, 503)}


class Answer(Exception):
    """An answer other than 200, with its JSON body and extra headers."""

    def __init__(self, status: int, reason: str, message: str, retry_after: int | None = None, **extra):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after
        self.body = {"success": False, "error": reason, "message": message, **extra}


class Intake:
    """WSGI: event posts answered here, anything else passed to ``fallback``."""

    def __init__(self, app, fallback):
        self.app, self.fallback = app, fallback

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "POST" or not path.startswith(PREFIX):
            return self.fallback(environ, start_response)
        status, payload, headers = 200, SUCCESS, []
        try:
            receive(self.app.extensions["basirat.collector"], self.app.config, path[len(PREFIX) :], environ)
        except Answer as answer:
            status, payload = answer.status, orjson.dumps(answer.body) + b"\n"
            if answer.retry_after is not None:
                headers.append(("Retry-After", str(answer.retry_after)))
        except Exception:
            log.exception("POST %s failed", path)
            status = 500
            payload = b'{"success":false,"error":"internal","message":"internal error; nothing was accepted"}\n'
        headers += [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                    ("Access-Control-Allow-Origin", environ.get("HTTP_ORIGIN") or "*"), *CORS]  # fmt: skip
        start_response(STATUS[status], headers)
        return [payload]


def receive(state, config, kind: str, environ: dict) -> None:
    """Spool the request's valid messages; returns for a 200, raises ``Answer`` otherwise."""
    if kind not in ROUTES:
        raise Answer(404, "not_found", f"no endpoint {PREFIX}{kind}")
    state.metrics_persist()
    _limit(state.ip_limit, client_ip(environ, config))
    try:
        body = read_body(environ, config["MAX_BATCH_BYTES"])
        doc = parse_json(body)
        site_id, by_server = _site(state, write_key(environ.get("HTTP_AUTHORIZATION", ""), doc))
        _limit(state.site_limit, site_id)
        messages = messages_of(doc, ROUTES[kind])
    except Rejected as exc:
        METRICS.reject(exc.reason)
        raise Answer(exc.status, exc.reason, exc.detail, _retry_after(exc.status)) from None

    opt_out = opted_out(EnvironHeaders(environ), config)
    sender = (_received(), "" if opt_out else _ip(environ, config), "" if opt_out else _agent(environ))
    valid, held, rejected = accept(messages, site_id, config, len(body), sender)
    valid = state.blocklist.kept(site_id, valid)  # erased people: answered 200 all the same
    if valid:
        trust = request_trust(state.keys.identity(site_id), by_server, valid)
        held.insert(0, request_record(valid, site_id, *sender, opt_out, trust))
    if held:
        try:
            state.spool.append(held, site_id)
        except SpoolFull as exc:
            METRICS.reject("spool_full", len(valid))
            raise Answer(503, "spool_full", str(exc), 5) from None
        METRICS.count("accepted", len(valid))
        METRICS.count("quarantined", len(held) - (1 if valid else 0))
    if rejected:
        # Valid messages of the batch are kept; the answer names each one refused.
        worst = max(rejected, key=lambda r: REASONS[r["error"]])
        status = REASONS[worst["error"]]
        raise Answer(status, worst["error"], worst["message"], _retry_after(status), accepted=len(valid),
                     rejected=rejected)  # fmt: skip


def accept(
    messages: list, site_id: str, config, body_bytes: int, sender: tuple[dt.datetime, str, str]
) -> tuple[list, list[dict], list[dict]]:
    """(valid messages, quarantine rows, rejections for the answer).

    ``sender`` is the request's (receive time, client IP, user agent), as stored.

    Only the checks that decide the answer run here; enrichment into
    warehouse rows (``records.build``) runs in the loader, off the request path.
    """
    limit = config["MAX_MESSAGE_BYTES"]
    check_size = body_bytes > limit  # no message of a smaller body can be over the limit
    valid, held, rejected = [], [], []
    for index, msg in enumerate(messages):
        try:
            valid.append(validate(msg, limit, check_size))
        except Rejected as exc:
            METRICS.reject(exc.reason)
            if exc.reason in QUARANTINED:
                held.append(held_row(msg, exc.reason, exc.detail, site_id, *sender, config["ANONYMIZE_IP"]))
            message_id = msg.get("messageId") if isinstance(msg, dict) else None
            rejected.append({"index": index, "messageId": message_id, "error": exc.reason, "message": exc.detail})
    return valid, held, rejected


def read_body(environ: dict, limit: int) -> bytes:
    """The raw body, read to at most ``limit`` + 1 bytes, then decoded.

    A body without Content-Length is read only from a server that de-chunks
    it and marks its end (gunicorn, werkzeug); otherwise it is empty, since
    reading on could wait for bytes that never come.
    """
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    length = None if chunked else content_length(environ)
    if length is not None and length > limit:
        raise Rejected("batch_too_large", f"body is over {limit} bytes")
    if length is None:
        length = limit + 1 if chunked or environ.get("wsgi.input_terminated") else 0
    raw = _read_up_to(environ["wsgi.input"], length) if length else b""
    if len(raw) > limit:
        raise Rejected("batch_too_large", f"body is over {limit} bytes")
    return decode_body(raw, environ.get("HTTP_CONTENT_ENCODING", ""), limit)


def content_length(environ: dict) -> int | None:
    """Content-Length as a number; None when absent or not a number (as werkzeug reads it)."""
    text = environ.get("CONTENT_LENGTH", "").strip()
    return int(text) if text.isdigit() else None


def _read_up_to(stream, size: int) -> bytes:
    parts, got = [], 0
    while got < size:
        part = stream.read(min(65536, size - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def write_key(authorization: str, doc: dict | None) -> str:
    """The write key: the Basic-auth username, else ``writeKey`` in the body (sendBeacon)."""
    if authorization[:6].lower() == "basic ":
        try:
            return base64.b64decode(authorization[6:].strip()).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    if doc is not None and isinstance(doc.get("writeKey"), str):
        return doc["writeKey"]
    return ""


def _site(state, key: str) -> tuple[str, bool]:
    """The site whose write key (a browser's) or server key (the store's server) this is, and which."""
    if not key:
        raise Rejected("missing_write_key", "send the write key as the Basic-auth username or as writeKey")
    try:
        site_id = state.keys.site_for_write_key(key)
        if site_id is None and key.startswith("sk_"):
            return _site_of_server_key(state, key)
    except KeysUnavailable as exc:
        raise Rejected("keys_unavailable", f"{exc}; retry later") from None
    if site_id is None:
        raise Rejected("unknown_write_key", "unknown write key")
    return site_id, False


def _site_of_server_key(state, key: str) -> tuple[str, bool]:
    site_id = state.keys.site_for_server_key(key)
    if site_id is None:
        raise Rejected("unknown_write_key", "unknown write key")
    return site_id, True


def _limit(limiter, key: str) -> None:
    if not limiter.allow(key):
        METRICS.reject("rate_limited")
        raise Answer(429, "rate_limited", "too many requests; slow down", limiter.retry_after())


def _retry_after(status: int) -> int | None:
    return {503: 5, 429: 1}.get(status)


def _ip(environ: dict, config) -> str:
    ip = client_ip(environ, config)
    return anonymize_ip(ip) if config["ANONYMIZE_IP"] else ip


def _agent(environ: dict) -> str:
    return environ.get("HTTP_USER_AGENT", "")[:1024]


def _received() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
