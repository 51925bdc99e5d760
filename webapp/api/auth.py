"""Who a bearer token speaks for, and which site a request may read.

Only tokens from ``api_tokens`` authenticate: the session cookie, a site's
write key and its public key are never accepted here (a key is not a token,
so its hash is in no row). The user behind the token must still be active;
their role and site list apply exactly as in the pages.
"""

from __future__ import annotations

from flask import abort, g, request

from warehouse.queries import api_tokens
from warehouse.queries import sites as site_store
from warehouse.queries import users as user_store

from ..access import warehouse
from ..accounts import may_see
from ..tokens import bearer, hash_token

NEEDS_TOKEN = (
    "Send Authorization: Bearer <token>; create a token on the API tokens page or with "
    "`basirat users token EMAIL`. Site keys are not API tokens."
)


def authenticate() -> dict:
    """The active user behind ``Authorization: Bearer``, or a 401."""
    token = bearer(request.headers.get("Authorization"))
    row = api_tokens.find_by_hash(warehouse(), hash_token(token)) if token else None
    user = user_store.get_user(warehouse(), row["user_id"]) if row else None
    if user is None or not user["active"]:
        abort(401, description=NEEDS_TOKEN)
    g.user = user
    return user


def site_for(user: dict, site_id: str) -> dict:
    """The site, checked against the user: 404 unknown, 403 not theirs."""
    site = site_store.get_site(warehouse(), site_id)
    if site is None:
        abort(404)
    if not may_see(user, site_id):
        abort(403)
    return site
