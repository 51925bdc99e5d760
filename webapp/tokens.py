"""API tokens: made here, shown once, stored only as a SHA-256.

A token is 32 random bytes, so a fast hash is enough (there is nothing to
brute-force, unlike a password). Each user manages their own tokens on the
"API tokens" page or with ``basirat users token EMAIL``; a token acts with its
user's role and sites, and is revoked when the user gets a new password or is
deactivated (making the account active again does not bring it back).
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from warehouse.queries import api_tokens as store

from .access import warehouse
from .pages import NavItem, paginate, sort_rows, sorting

bp = Blueprint("tokens", __name__)
NAV = [NavItem(_l("API tokens"), "tokens.index", order=93, site_scoped=False)]
PREFIX = "bt_"
MAX_LABEL = 100


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue(wh, user_id: str, label: str) -> tuple[dict, str]:
    """A new token for the user: (stored row, the token to show once)."""
    label = label.strip()[:MAX_LABEL] or "API token"
    token = PREFIX + secrets.token_urlsafe(32)
    row = store.create_token(wh, "t_" + secrets.token_hex(6), user_id, hash_token(token), label)
    return row, token


def bearer(header: str | None) -> str | None:
    """The token from an ``Authorization: Bearer ...`` header, if it looks like one of ours."""
    scheme, _, value = (header or "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(PREFIX) or len(value) > 200:
        return None
    return value


TOKEN_SORTS = {"label": lambda t: t["label"].lower(), "created": lambda t: t["created_at"]}


@bp.route("/tokens", methods=["GET", "POST"])
def index():
    if request.method == "POST":
        row, token = issue(warehouse(), g.user["user_id"], request.form.get("label", ""))
        return render_template("tokens/created.html", created=row, token=token)
    order = sorting(TOKEN_SORTS, "created")
    rows = sort_rows(store.list_tokens(warehouse(), g.user["user_id"]), order, TOKEN_SORTS)
    page = paginate(len(rows), per_page=50)
    rows = rows[page.offset : page.offset + page.limit]
    return render_template("tokens/index.html", rows=rows, page=page, sorting=order)


@bp.route("/tokens/<token_id>/revoke", methods=["POST"])
def revoke(token_id: str):
    if not store.revoke_token(warehouse(), g.user["user_id"], token_id):
        abort(404)
    flash(_("Token revoked: programs using it can no longer call the API."), "success")
    return redirect(url_for("tokens.index"))
