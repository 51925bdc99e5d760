"""The collector's Flask routes: preflights, ``/healthz`` and ``/metrics`` (token or loopback only).

The Segment HTTP Tracking API itself (``POST /v1/<kind>``) is answered by
``intake.Intake`` in front of these routes. Anything Segment's or
RudderStack's libraries send works unchanged: the write key as the Basic-auth
username or as ``writeKey`` in the body (what ``navigator.sendBeacon`` can
send), gzip bodies, ``/v1/batch`` and the single calls.
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, current_app, jsonify, request

from . import spool as spool_files
from .intake import CORS
from .metrics import METRICS, prometheus

bp = Blueprint("collector", __name__)


@bp.after_request
def cors(response):
    """The tracker posts from the store's own pages; the write key is public."""
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    for name, value in CORS:
        response.headers[name] = value
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


FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _metrics_refusal():
    """None when the caller may read ``/metrics``, else the answer.

    With ``BASIRAT_METRICS_TOKEN`` set, the token is asked of everyone (as
    ``Authorization: Bearer``); without it only a client on this machine's
    loopback that did not come through a proxy may read them."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    if token:
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return None
        body = {"success": False, "error": "unauthorized", "message": "send Authorization: Bearer <metrics token>"}
        return jsonify(body), 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        local = False
    if local and not any(name in request.headers for name in FORWARDING_HEADERS):
        return None
    message = "metrics are served to loopback only; set BASIRAT_METRICS_TOKEN to read them from elsewhere"
    return jsonify({"success": False, "error": "forbidden", "message": message}), 403


@bp.route("/metrics")
def metrics():
    refused = _metrics_refusal()
    if refused is not None:
        return refused
    state = current_app.extensions["basirat.collector"]
    directory = state.spool.directory
    gauges = {
        "spool_bytes": state.spool.used_bytes(),
        "spool_limit_bytes": state.spool.max_bytes,
        "loader_lag_seconds": spool_files.oldest_pending_age(directory),
    }
    text = prometheus(METRICS.combined(directory), gauges)
    return text, 200, {"Content-Type": "text/plain; version=0.0.4"}
