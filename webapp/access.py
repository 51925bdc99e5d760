"""Who is signed in, what they may open, and the site a page is about.

Every admin route requires a signed-in, active user unless its view is marked
``public``. A route whose URL has ``<site_id>`` is checked before the view
runs: an unknown site is 404, a site the user may not see is 403, so a page
can never show another tenant's data by forgetting a check. Inside a view,
``current_site()`` is that site. Only the session cookie authenticates: no
site key (write or public) is ever looked at here.

Who may manage which user is decided by ``can_manage`` alone, for the pages
and the API alike: a site-limited admin must never reach past its own sites
by editing an account (its own included).
"""

from __future__ import annotations

import functools

from flask import abort, current_app, g, redirect, request, session, url_for

from warehouse.queries import sites as site_store
from warehouse.queries import users as user_store

from .accounts import may_see, reaches_every_site


def warehouse():
    return current_app.extensions["basirat.warehouse"]


def public(view):
    """Mark a view as reachable without signing in (sign-in page, errors)."""
    view.public = True
    return view


def login_required(view):
    """Explicit form of the default: the view needs a signed-in user."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


def role_required(role: str):
    """Only users with ``role`` may open the view (403 for others)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = g.get("user")
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if user["role"] != role:
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapper)

    return decorate


def current_user() -> dict | None:
    return g.get("user")


def current_site() -> dict:
    """The site named by the URL, already checked against the user."""
    site = g.get("site")
    if site is None:
        abort(404)
    return site


def visible_sites(user: dict | None = None) -> list[dict]:
    """Every live site the user may see; use it to filter anything listed across sites."""
    user = user or g.get("user")
    if user is None:
        return []
    return [s for s in site_store.list_sites(warehouse()) if may_see(user, s["site_id"])]


def can_manage(actor: dict, target: dict) -> bool:
    """May ``actor`` see, create, edit or reset the password of an account shaped like ``target``?

    Call it with the account as it is (to see or touch it) and as it would be
    after a change (to make it): an edit is allowed only when both pass, so no
    one can widen an account past their own sites. Only admins manage users; an
    admin reaching every site manages everyone. A site-limited admin manages
    only accounts whose sites are all among its own; an empty list never is,
    because for an admin it means every site, and an analyst without sites
    belongs to no tenant the limited admin can speak for.
    """
    if actor["role"] != "admin":
        return False
    if reaches_every_site(actor):
        return True
    sites = set(target["site_ids"])
    return bool(sites) and sites <= set(actor["site_ids"])


def manageable_users(actor: dict) -> list[dict]:
    """Every account ``actor`` may manage, by email: the users list of the pages and the API.

    Filtered here rather than in SQL so that the rule stays in ``can_manage``;
    the list of sign-in accounts is small.
    """
    wh = warehouse()
    rows = user_store.list_users(wh, max(1, user_store.count_users(wh)), 0)
    return [u for u in rows if can_manage(actor, u)]


def load_user() -> None:
    """The session's user, if still active and the session is of their current generation.

    The generation goes up on sign-out, a new password and deactivation
    (``accounts``), so a copy of an ended session's cookie opens nothing."""
    g.user = None
    user_id = session.get("user_id")
    if user_id:
        user = user_store.get_user(warehouse(), user_id)
        if user is not None and user["active"] and session.get("gen") == int(user["session_generation"]):
            g.user = user
        else:
            session.clear()


def _guard():
    """Default deny: sign-in for every view not marked public, then the site check."""
    if request.endpoint == "static":
        return None
    if request.endpoint is None:  # a 404: keep the layout's navigation for a signed-in user
        load_user()
        return None
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, "public", False):
        return None
    load_user()
    if g.user is None:
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)
    site_id = (request.view_args or {}).get("site_id")
    if site_id is not None:
        site = site_store.get_site(warehouse(), site_id)
        if site is None:
            abort(404)
        if not may_see(g.user, site_id):
            abort(403)
        g.site = site
        session["site_id"] = site_id
    return None


def install(app) -> None:
    app.before_request(_guard)
