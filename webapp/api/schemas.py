"""JSON schemas shared by API endpoints, and the helpers that shape rows to match them.

An endpoint's response schema is what schemathesis checks every answer
against, so each ``*_json`` helper here produces exactly its schema.
"""

from __future__ import annotations

import datetime as dt
import json

SITE_ID = {"type": "string", "pattern": "^s_[0-9a-f]{12}$", "example": "s_0123456789ab"}
TIME = {"type": "string", "format": "date-time"}
ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
SITE = {
    "type": "object",
    "required": ["site_id", "name", "domains", "write_key", "public_key", "created_at"],
    "properties": {
        "site_id": {"type": "string"},
        "name": {"type": "string"},
        "domains": {"type": "array", "items": {"type": "string"}},
        "write_key": {"type": "string", "description": "For the collector only: it can send events, nothing else."},
        "public_key": {"type": "string", "description": "For recommendation calls from the storefront."},
        "created_at": TIME,
    },
}
USER = {
    "type": "object",
    "required": ["user_id", "email", "role", "site_ids", "active", "created_at"],
    "properties": {
        "user_id": {"type": "string"},
        "email": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "analyst"]},
        "site_ids": {"type": "array", "items": {"type": "string"}, "description": "Empty: every site for an admin."},
        "active": {"type": "boolean"},
        "created_at": TIME,
    },
}
_OBJECT = {"type": "object", "additionalProperties": True}
EVENT = {
    "type": "object",
    "required": [
        "message_id",
        "type",
        "event",
        "name",
        "anonymous_id",
        "user_id",
        "timestamp",
        "received_at",
        "url",
        "referrer",
        "title",
        "properties",
        "traits",
    ],
    "properties": {
        **{
            k: {"type": "string"}
            for k in ("message_id", "type", "event", "name", "anonymous_id", "user_id", "url", "referrer", "title")
        },
        "timestamp": TIME,
        "received_at": TIME,
        "properties": _OBJECT,
        "traits": _OBJECT,
    },
}
PAGE_PARAMS = ("page", "per_page")


def listing(item: dict) -> dict:
    """A page of items with its position in the whole list."""
    return {
        "type": "object",
        "required": ["total", "page", "per_page", "pages", "items"],
        "properties": {
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
            "items": {"type": "array", "items": item},
        },
    }


def iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
    return value.isoformat()


def _object(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def site_json(site: dict) -> dict:
    keys = ("site_id", "name", "write_key", "public_key")
    return {**{k: site[k] for k in keys}, "domains": list(site["domains"]), "created_at": iso(site["created_at"])}


def user_json(user: dict) -> dict:
    return {
        "user_id": user["user_id"],
        "email": user["email"],
        "role": user["role"],
        "site_ids": list(user["site_ids"]),
        "active": bool(user["active"]),
        "created_at": iso(user["created_at"]),
    }


def event_json(row: dict) -> dict:
    out = {k: row[k] for k in EVENT["properties"] if k not in ("timestamp", "received_at", "properties", "traits")}
    return {
        **out,
        "timestamp": iso(row["timestamp"]),
        "received_at": iso(row["received_at"]),
        "properties": _object(row["properties"]),
        "traits": _object(row["traits"]),
    }


def page_json(items: list, total: int, page: int, per_page: int) -> dict:
    return {"total": total, "page": page, "per_page": per_page, "pages": max(1, -(-total // per_page)), "items": items}
