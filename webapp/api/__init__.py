"""The admin API: token-authenticated JSON under ``/api``, described by ``/api/openapi.json``.

Endpoint modules are listed in ``MODULES``; each declares its endpoints with
``@endpoint`` (see ``registry.py`` and webapp/README.md). Importing a module
registers its endpoints; the blueprint and the OpenAPI document are built
from that one list.
"""

from __future__ import annotations

import importlib

from flask import Blueprint, jsonify

from ..access import public
from .openapi import document
from .registry import ENDPOINTS

# Add endpoints: create webapp/api/<name>.py using @endpoint and list it here.
MODULES = ["sites", "reports"]

bp = Blueprint("api", __name__, url_prefix="/api")
NAV: list = []

for _name in MODULES:
    importlib.import_module(f"{__name__}.{_name}")
for _e in ENDPOINTS:
    bp.add_url_rule(_e.path, _e.endpoint, _e.view, methods=[_e.method])


@bp.route("/openapi.json")
@public
def openapi():
    # relative: the API is where this document is, whatever Host the request named
    return jsonify(document("/"))


@bp.after_request
def _challenge(response):
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="basirat"'
    return response
