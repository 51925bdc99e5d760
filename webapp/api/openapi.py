"""The OpenAPI 3 document, built from the endpoint declarations (never written by hand)."""

from __future__ import annotations

import re

from .registry import ENDPOINTS, Endpoint
from .schemas import ERROR, SITE_ID

PREFIX = "/api"
ERRORS = {
    "400": "Bad parameter or body",
    "401": "Missing, unknown or revoked token (site keys are not tokens)",
    "403": "The token's user may not read this site, or needs the admin role",
    "404": "No such site",
}


def openapi_path(path: str) -> str:
    """Flask's ``/v1/sites/<site_id>`` as OpenAPI's ``/api/v1/sites/{site_id}``."""
    return PREFIX + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)


def _operation(e: Endpoint) -> dict:
    params = [
        {"name": name, "in": "path", "required": True, "schema": SITE_ID if name == "site_id" else {"type": "string"}}
        for name in re.findall(r"<(?:\w+:)?(\w+)>", e.path)
    ]
    params += [
        {"name": p.name, "in": "query", "required": False, "schema": p.schema, "description": p.description}
        for p in e.query
    ]
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    responses = {str(e.status): {"description": "OK", "content": {"application/json": {"schema": e.response}}}}
    responses.update({code: {"description": text, **error} for code, text in ERRORS.items()})
    op = {
        "operationId": e.endpoint,
        "summary": e.summary,
        "tags": [e.tag],
        "parameters": params,
        "responses": responses,
    }
    if e.role:
        op["description"] = f"Only users with the {e.role} role."
    if e.body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": e.body}}}
    return op


def document(server_url: str) -> dict:
    paths: dict[str, dict] = {
        PREFIX + "/openapi.json": {
            "get": {
                "operationId": "get_openapi",
                "summary": "This document",
                "tags": ["Meta"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
    for e in ENDPOINTS:
        paths.setdefault(openapi_path(e.path), {})[e.method.lower()] = _operation(e)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Basirat admin API",
            "version": "1",
            "description": "Read what the admin pages show. Create a token on the API tokens page or with "
            "`basirat users token EMAIL`, then send `Authorization: Bearer <token>`. "
            "A token acts with its user's role and sites.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
        },
        "paths": paths,
    }
