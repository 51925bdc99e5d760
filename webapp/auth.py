"""Sign in and sign out, with throttling per account and address and per address (``throttle``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from core.proxies import client_address
from warehouse.queries import users as user_store

from . import accounts, i18n
from .access import public, warehouse

bp = Blueprint("auth", __name__)
NAV: list = []


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after sign-in helps phishing.

    Control characters (CR/LF, tab, NUL) are refused too: a header cannot hold them."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("home")
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return url_for("home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("home")
    return target


def _client_ip() -> str:
    """The address to throttle: the right-most hop that is not a trusted proxy."""
    return client_address(request.remote_addr or "", request.headers.get("X-Forwarded-For", ""), current_app.config)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    first_run = user_store.count_users(warehouse(), active_only=True) == 0
    if request.method == "GET":
        return render_template("auth/login.html", first_run=first_run, email="")
    throttle = current_app.extensions["basirat.throttle"]
    email = request.form.get("email", "").strip().lower()[:254]
    ip = _client_ip()
    wait = throttle.begin(email, ip)  # counted now, before the password is checked
    if wait:
        if wait < 120:
            later = ngettext("%(count)s second", "%(count)s seconds", wait, count=i18n.number(wait))
        else:
            later = ngettext("%(count)s minute", "%(count)s minutes", wait // 60, count=i18n.number(wait // 60))
        flash(_("Too many failed sign-ins from this address. Try again in %(later)s.", later=later), "error")
        page = render_template("auth/login.html", first_run=first_run, email=email)
        return page, 429, {"Retry-After": str(wait)}
    user = accounts.authenticate(warehouse(), email, request.form.get("password", ""))
    if user is None:
        flash(_("Wrong email or password."), "error")
        return render_template("auth/login.html", first_run=first_run, email=email), 401
    throttle.succeeded(email, ip)
    i18n.clear_session()
    session.permanent = True
    session["user_id"] = user["user_id"]
    session["gen"] = int(user["session_generation"])
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends every session of the user, not only this browser's: a copied cookie stops working too."""
    accounts.end_sessions(warehouse(), g.user["user_id"])
    i18n.clear_session()
    g.user = None
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))
