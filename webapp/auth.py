"""Sign in and sign out, with throttling per account and address and per address (``throttle``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from core.proxies import client_address
from warehouse.queries import users as user_store

from . import accounts
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
        later = f"{wait} seconds" if wait < 120 else f"{wait // 60} minutes"
        flash(f"Too many failed sign-ins from this address. Try again in {later}.", "error")
        page = render_template("auth/login.html", first_run=first_run, email=email)
        return page, 429, {"Retry-After": str(wait)}
    user = accounts.authenticate(warehouse(), email, request.form.get("password", ""))
    if user is None:
        flash("Wrong email or password.", "error")
        return render_template("auth/login.html", first_run=first_run, email=email), 401
    throttle.succeeded(email, ip)
    session.clear()
    session.permanent = True
    session["user_id"] = user["user_id"]
    session["gen"] = int(user["session_generation"])
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/logout", methods=["POST"])
def logout():
    """Ends every session of the user, not only this browser's: a copied cookie stops working too."""
    accounts.end_sessions(warehouse(), g.user["user_id"])
    session.clear()
    g.user = None
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
