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

from .metrics import METRICS
from .pipeline import REASONS, Rejected, decode_body, messages_of, parse_json, to_row, validate
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
    length = request.content_length
    if length is not None and length > limit:
        raise Rejected("batch_too_large", f"body is over {limit} bytes")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise Rejected("batch_too_large", f"body is over {limit} bytes")
    return decode_body(raw, request.headers.get("Content-Encoding", ""), limit)


def _client_ip() -> str:
    if current_app.config["TRUST_PROXY"]:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.remote_addr or ""


@bp.route("/v1/<kind>", methods=["POST"])
def receive(kind: str):
    if kind not in ROUTES:
        return _error(404, "not_found", f"no endpoint /v1/{kind}")
    config = current_app.config
    state = current_app.extensions["basirat.collector"]
    try:
        doc = parse_json(_read_body(config["MAX_BATCH_BYTES"]))
        key = _write_key(doc)
        if not key:
            raise Rejected("missing_write_key", "send the write key as the Basic-auth username or as writeKey")
        site_id = state.keys.site_for_write_key(key)
        if site_id is None:
            raise Rejected("unknown_write_key", "unknown write key")
        messages = messages_of(doc, ROUTES[kind])
    except Rejected as exc:
        METRICS.reject(exc.reason)
        return _error(exc.status, exc.reason, exc.detail)

    received = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    ip, agent = _client_ip(), request.headers.get("User-Agent", "")
    rows, rejected = [], []
    for index, msg in enumerate(messages):
        try:
            rows.append(to_row(validate(msg, config["MAX_MESSAGE_BYTES"]), site_id, received, ip, agent, config))
        except Rejected as exc:
            METRICS.reject(exc.reason)
            message_id = msg.get("messageId") if isinstance(msg, dict) else None
            rejected.append({"index": index, "messageId": message_id, "error": exc.reason, "message": exc.detail})
    if rows and state.blocklist is not None:
        kept = [row for row in rows if not state.blocklist.is_blocked(row)]
        if len(kept) < len(rows):
            METRICS.count("blocked", len(rows) - len(kept))
        rows = kept
    if rows:
        try:
            state.spool.append(rows)
        except SpoolFull as exc:
            METRICS.reject("spool_full", len(rows))
            return _error(503, "spool_full", str(exc))
        METRICS.count("accepted", len(rows))
    if rejected:
        # Valid messages of the batch are kept; the answer names each one refused.
        worst = max(rejected, key=lambda r: REASONS[r["error"]])
        return _error(REASONS[worst["error"]], worst["error"], worst["message"], accepted=len(rows), rejected=rejected)
    return jsonify({"success": True})


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
    state = current_app.extensions["basirat.collector"]
    return jsonify({"ok": True, "spool_bytes": state.spool.used_bytes()})


@bp.route("/metrics")
def metrics():
    state = current_app.extensions["basirat.collector"]
    text = METRICS.prometheus({"spool_bytes": state.spool.used_bytes()})
    return text, 200, {"Content-Type": "text/plain; version=0.0.4"}
