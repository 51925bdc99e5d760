"""The Segment HTTP Tracking API.

Anything Segment's or RudderStack's libraries send works unchanged: the write
key as the Basic-auth username or as ``writeKey`` in the body (what
``navigator.sendBeacon`` can send), gzip bodies, ``/v1/batch`` and the single
calls. A request answers 200 only after its rows are in the durable spool.
"""

from __future__ import annotations

import base64
import datetime as dt

from flask import Blueprint, current_app, jsonify, request

from . import spool as spool_files
from .keys import KeysUnavailable
from .metrics import METRICS, prometheus
from .pipeline import REASONS, Rejected, anonymize_ip, decode_body, messages_of, opted_out, parse_json, validate
from .records import held_row, request_record
from .spool import SpoolFull

bp = Blueprint("collector", __name__)

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


def _error(status: int, reason: str, message: str, **extra):
    response = jsonify({"success": False, "error": reason, "message": message, **extra})
    response.status_code = status
    if status == 503:
        response.headers["Retry-After"] = "5"
    if status == 429:
        response.headers["Retry-After"] = "1"
    return response


def _write_key(doc: dict | None) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            return base64.b64decode(header[6:].strip()).decode("utf-8").split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    if doc is not None and isinstance(doc.get("writeKey"), str):
        return doc["writeKey"]
    return ""


def _read_body(limit: int) -> bytes:
    """The raw body, read to at most ``limit`` + 1 bytes, then decoded.

    A body without Content-Length (chunked) is read from the server's own
    de-chunking input (gunicorn, werkzeug) up to the same cap.
    """
    length = request.content_length
    if length is not None and length > limit:
        raise Rejected("batch_too_large", f"body is over {limit} bytes")
    stream = request.stream
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if length is None and (chunked or request.environ.get("wsgi.input_terminated")):
        stream = request.environ["wsgi.input"]
    raw = _read_up_to(stream, limit + 1)
    if len(raw) > limit:
        raise Rejected("batch_too_large", f"body is over {limit} bytes")
    return decode_body(raw, request.headers.get("Content-Encoding", ""), limit)


def _read_up_to(stream, size: int) -> bytes:
    parts, got = [], 0
    while got < size:
        part = stream.read(min(65536, size - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _client_ip() -> str:
    if current_app.config["TRUST_PROXY"]:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.remote_addr or ""


SUCCESS = b'{"success":true}\n'
QUARANTINED = ("bad_schema", "bad_type", "no_identity", "message_too_large")


def _limited(limiter, key: str):
    if limiter.allow(key):
        return None
    METRICS.reject("rate_limited")
    response = _error(429, "rate_limited", "too many requests; slow down")
    response.headers["Retry-After"] = str(limiter.retry_after())
    return response


def _accept(
    messages: list, site_id: str, config, body_bytes: int, sender: tuple[dt.datetime, str, str]
) -> tuple[list, list[dict], list[dict]]:
    """(valid messages, quarantine rows, rejections for the answer).

    ``sender`` is the request's (receive time, client IP, user agent), as stored.

    Only the checks that decide the answer run here; enrichment into
    warehouse rows (``to_row``) runs in the loader, off the request path.
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


def _received() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _ip(config, opt_out: bool) -> str:
    if opt_out:
        return ""
    ip = _client_ip()
    return anonymize_ip(ip) if config["ANONYMIZE_IP"] else ip


def _agent(opt_out: bool) -> str:
    if opt_out:
        return ""
    return request.headers.get("User-Agent", "")[:1024]


@bp.route("/v1/<kind>", methods=["POST"])
def receive(kind: str):
    if kind not in ROUTES:
        return _error(404, "not_found", f"no endpoint /v1/{kind}")
    config = current_app.config
    state = current_app.extensions["basirat.collector"]
    state.metrics_persist()
    limited = _limited(state.ip_limit, _client_ip())
    if limited is not None:
        return limited
    try:
        body = _read_body(config["MAX_BATCH_BYTES"])
        doc = parse_json(body)
        key = _write_key(doc)
        if not key:
            raise Rejected("missing_write_key", "send the write key as the Basic-auth username or as writeKey")
        try:
            site_id = state.keys.site_for_write_key(key)
        except KeysUnavailable as exc:
            raise Rejected("keys_unavailable", f"{exc}; retry later") from None
        if site_id is None:
            raise Rejected("unknown_write_key", "unknown write key")
        limited = _limited(state.site_limit, site_id)
        if limited is not None:
            return limited
        messages = messages_of(doc, ROUTES[kind])
    except Rejected as exc:
        METRICS.reject(exc.reason)
        return _error(exc.status, exc.reason, exc.detail)

    opt_out = opted_out(request.headers, config)
    sender = (_received(), _ip(config, opt_out), _agent(opt_out))
    valid, held, rejected = _accept(messages, site_id, config, len(body), sender)
    valid = state.blocklist.kept(site_id, valid)  # erased people: answered 200 all the same
    if valid:
        held.insert(0, request_record(valid, site_id, *sender, opt_out))
    if held:
        try:
            state.spool.append(held)
        except SpoolFull as exc:
            METRICS.reject("spool_full", len(valid))
            return _error(503, "spool_full", str(exc))
        METRICS.count("accepted", len(valid))
        METRICS.count("quarantined", len(held) - (1 if valid else 0))
    if rejected:
        # Valid messages of the batch are kept; the answer names each one refused.
        worst = max(rejected, key=lambda r: REASONS[r["error"]])
        return _error(REASONS[worst["error"]], worst["error"], worst["message"], accepted=len(valid), rejected=rejected)
    return current_app.response_class(SUCCESS, mimetype="application/json")


@bp.after_request
def cors(response):
    """The tracker posts from the store's own pages; the write key is public."""
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Content-Encoding"
    response.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Vary"] = "Origin"
    return response


@bp.route("/v1/<kind>", methods=["OPTIONS"])
def preflight(kind: str):
    return ("", 204)


@bp.route("/healthz")
def healthz():
    """200 while the spool takes events; 503 when it is full (take this collector out of rotation)."""
    state = current_app.extensions["basirat.collector"]
    used, limit = state.spool.used_bytes(), state.spool.max_bytes
    body = {
        "ok": state.spool.has_room(),
        "spool_bytes": used,
        "spool_limit_bytes": limit,
        "loader_lag_seconds": spool_files.oldest_pending_age(state.spool.directory),
    }
    return jsonify(body), 200 if body["ok"] else 503


@bp.route("/metrics")
def metrics():
    state = current_app.extensions["basirat.collector"]
    directory = state.spool.directory
    gauges = {
        "spool_bytes": state.spool.used_bytes(),
        "spool_limit_bytes": state.spool.max_bytes,
        "loader_lag_seconds": spool_files.oldest_pending_age(directory),
    }
    text = prometheus(METRICS.combined(directory), gauges)
    return text, 200, {"Content-Type": "text/plain; version=0.0.4"}
