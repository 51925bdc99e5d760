"""API: a site's dashboard figures, daily series and recent events, as the pages show them."""

from __future__ import annotations

from flask import g

from core.events import TYPES
from warehouse.queries import event_log, overview

from ..access import warehouse
from ..dashboard import daily_counts
from .registry import Param, endpoint
from .schemas import EVENT, event_json, listing, page_json
from .sites import PAGE, PER_PAGE

DAYS = Param("days", {"type": "integer", "minimum": 1, "maximum": 366, "default": 30}, "Window, in days up to now.")
SUMMARY = {
    "type": "object",
    "required": ["site_id", "days", "events", "visitors", "orders", "revenue", "currency"],
    "properties": {
        "site_id": {"type": "string"},
        "days": {"type": "integer"},
        "events": {"type": "integer", "minimum": 0},
        "visitors": {
            "type": "integer",
            "minimum": 0,
            "description": "Distinct people (devices and logins stitched), bots left out.",
        },
        "orders": {"type": "integer", "minimum": 0},
        "revenue": {"type": "number"},
        "currency": {"type": "string", "description": "The site's most used currency ('' when none)."},
    },
}
DAILY = {
    "type": "object",
    "required": ["site_id", "days", "series"],
    "properties": {
        "site_id": {"type": "string"},
        "days": {"type": "integer"},
        "series": {
            "type": "array",
            "description": "Every UTC day of the window, oldest first, zeros included.",
            "items": {
                "type": "object",
                "required": ["day", "events"],
                "properties": {"day": {"type": "string", "format": "date"}, "events": {"type": "integer"}},
            },
        },
    },
}
TYPE = Param("type", {"type": "string", "enum": list(TYPES)}, "Only events of this Segment type.")
EVENT_NAME = Param("event", {"type": "string", "maxLength": 256}, "Only track events with this name.")


@endpoint(
    "/v1/sites/<site_id>/summary",
    summary="Headline figures (dashboard cards)",
    tag="Reports",
    query=[DAYS],
    response=SUMMARY,
)
def summary(q: dict, site_id: str):
    site_id = g.site["site_id"]
    figures = overview.summary(warehouse(), site_id, q["days"])
    return {"site_id": site_id, "days": q["days"], **figures, "currency": overview.currency(warehouse(), site_id)}


@endpoint(
    "/v1/sites/<site_id>/daily", summary="Events per day (dashboard chart)", tag="Reports", query=[DAYS], response=DAILY
)
def daily(q: dict, site_id: str):
    site_id = g.site["site_id"]
    days = daily_counts(overview.daily_events(warehouse(), site_id, q["days"]), q["days"])
    return {"site_id": site_id, "days": q["days"], "series": [{"day": day.isoformat(), "events": n} for day, n in days]}


@endpoint(
    "/v1/sites/<site_id>/events",
    summary="Recent events, newest first (Live events page)",
    tag="Reports",
    query=[PAGE, PER_PAGE, TYPE, EVENT_NAME],
    response=listing(EVENT),
)
def events(q: dict, site_id: str):
    site_id = g.site["site_id"]
    type_, name = q["type"] or "", q["event"] or ""
    total = event_log.count(warehouse(), site_id, type_, name)
    rows = event_log.page(warehouse(), site_id, q["per_page"], (q["page"] - 1) * q["per_page"], type_, name)
    return page_json([event_json(r) for r in rows], total, q["page"], q["per_page"])
