"""Declaring an API endpoint: route, parameters, response schema and who may call it, in one place.

``@endpoint("/v1/sites/<site_id>/summary", summary=..., query=[...], response=...)``
registers the view on the API blueprint AND describes it in the OpenAPI
document, so the two cannot drift apart. The wrapper authenticates the bearer
token, applies the role, checks ``<site_id>`` against the user's sites and
validates the query string before the view runs; the view receives the
validated query as ``q`` plus its path arguments.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import abort, g, request

from ..security import csrf_exempt
from . import auth


@dataclass(frozen=True)
class Param:
    """A query-string parameter: a JSON schema for an integer or a string."""

    name: str
    schema: dict
    description: str = ""

    def parse(self, raw: str | None):
        schema = self.schema
        if raw is None:
            return schema.get("default")
        if schema["type"] == "integer":
            try:
                value = int(raw)
            except ValueError:
                abort(400, description=f"{self.name} must be an integer")
            if not schema.get("minimum", value) <= value <= schema.get("maximum", value):
                abort(400, description=f"{self.name} must be between {schema['minimum']} and {schema['maximum']}")
            return value
        if "enum" in schema and raw not in schema["enum"]:
            abort(400, description=f"{self.name} must be one of {', '.join(schema['enum'])}")
        if len(raw) > schema.get("maxLength", 1024):
            abort(400, description=f"{self.name} is too long")
        return raw


@dataclass
class Endpoint:
    path: str
    method: str
    view: object
    summary: str
    response: dict
    tag: str
    query: list[Param] = field(default_factory=list)
    body: dict | None = None
    role: str | None = None
    status: int = 200

    @property
    def endpoint(self) -> str:
        return f"{self.method.lower()}_{self.view.__module__.rsplit('.', 1)[-1]}_{self.view.__name__}"


ENDPOINTS: list[Endpoint] = []


def endpoint(
    path: str,
    *,
    summary: str,
    response: dict,
    tag: str,
    method: str = "GET",
    query: list[Param] | None = None,
    body: dict | None = None,
    role: str | None = None,
    status: int = 200,
):
    """Register a token-authenticated JSON endpoint under ``/api`` (see webapp/README.md)."""

    def decorate(view):
        declared = Endpoint(path, method, view, summary, response, tag, list(query or []), body, role, status)

        @functools.wraps(view)
        def wrapper(**path_args):
            user = auth.authenticate()
            if role and user["role"] != role:
                abort(403)
            if "site_id" in path_args:
                g.site = auth.site_for(user, path_args["site_id"])
            q = {p.name: p.parse(request.args.get(p.name)) for p in declared.query}
            return view(q, **path_args)

        wrapper.public = True  # not the session: the token check above is the gate
        ENDPOINTS.append(declared)
        declared.view = csrf_exempt(wrapper)
        return view

    return decorate


def json_body() -> dict:
    """The request's JSON object, or a 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="send a JSON object with Content-Type: application/json")
    return data
