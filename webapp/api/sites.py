"""API: the caller, sites (list, get, create) and users, as the Sites and Users pages show them."""

from __future__ import annotations

from flask import abort, g

from warehouse.queries import sites as site_store

from ..access import manageable_users, visible_sites, warehouse
from ..sites import parse_domains
from .registry import Param, endpoint, json_body
from .schemas import SITE, USER, listing, page_json, site_json, user_json

PAGE = Param("page", {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}, "Page number, from 1.")
PER_PAGE = Param("per_page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Items per page.")
NEW_SITE = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "domains": {"type": "array", "items": {"type": "string", "example": "shop.example.com"}, "maxItems": 50},
    },
}


@endpoint("/v1/me", summary="The user this token acts for", response=USER, tag="Users")
def me(q: dict):
    return user_json(g.user)


@endpoint("/v1/sites", summary="Sites this token may read", tag="Sites", response={"type": "array", "items": SITE})
def list_sites(q: dict):
    return [site_json(s) for s in visible_sites(g.user)]


@endpoint("/v1/sites/<site_id>", summary="One site with its keys and domains", tag="Sites", response=SITE)
def get_site(q: dict, site_id: str):
    return site_json(g.site)


@endpoint(
    "/v1/sites",
    method="POST",
    status=201,
    role="admin",
    body=NEW_SITE,
    response=SITE,
    tag="Sites",
    summary="Create a site (admins)",
)
def create_site(q: dict):
    data = json_body()
    name, domains = data.get("name"), data.get("domains", [])
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        abort(400, description="name must be a text of 1 to 200 characters")
    if not isinstance(domains, list) or len(domains) > 50 or not all(isinstance(d, str) for d in domains):
        abort(400, description="domains must be a list of at most 50 domain names")
    try:
        parsed = parse_domains(" ".join(domains))
    except ValueError as exc:
        abort(400, description=str(exc))
    return site_json(site_store.create_site(warehouse(), name.strip(), parsed)), 201


@endpoint(
    "/v1/users",
    summary="Users with their roles and sites (admins)",
    role="admin",
    tag="Users",
    query=[PAGE, PER_PAGE],
    response=listing(USER),
)
def list_users(q: dict):
    """Only the users the caller may manage: a site-limited admin sees no one beyond its sites."""
    users = manageable_users(g.user)
    offset = (q["page"] - 1) * q["per_page"]
    rows = users[offset : offset + q["per_page"]]
    return page_json([user_json(u) for u in rows], len(users), q["page"], q["per_page"])
