"""``GET /t.js`` and ``GET /e.js``: the browser tracker and its ecommerce reader,
built from ``tracker/`` into ``static/``.

Stores embed it on every page, so it is cached for a day (the URL carries no
version, so not for longer) and revalidated by ETag; a store's visitors then
fetch it about once a day and get a 304 after that.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import Blueprint, Response, request

STATIC = Path(__file__).resolve().parent / "static"
MAX_AGE = 86400

bp = Blueprint("tracker_file", __name__)


@functools.cache
def _script(name: str) -> tuple[bytes, str]:
    body = (STATIC / name).read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@bp.route("/t.js", methods=["GET", "HEAD"], defaults={"name": "t.js"})
@bp.route("/e.js", methods=["GET", "HEAD"], defaults={"name": "e.js"})
def tracker_script(name: str):
    body, etag = _script(name)
    headers = {
        "Content-Type": "text/javascript; charset=utf-8",
        "Cache-Control": f"public, max-age={MAX_AGE}",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
    }
    if etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
        return Response(status=304, headers=headers)
    return Response(body, headers=headers)
