"""Request hardening: the session secret, CSRF tokens and response headers.

CSRF is a per-session random token compared in constant time; a few lines we
can read in full beat a dependency for this (Flask-WTF would bring WTForms).
Every POST/PUT/PATCH/DELETE must carry it as the ``csrf_token`` form field or
the ``X-CSRF-Token`` header, unless the view is marked ``csrf_exempt`` (token
authenticated JSON endpoints, which carry no cookie).
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import secrets
from pathlib import Path

from flask import Flask, abort, current_app, request, session
from flask_babel import gettext as _

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECRET_FILE = "secret_key"


def secret_key(config: dict) -> str:
    """BASIRAT_SECRET_KEY, or one generated once into the data folder (mode 0600)."""
    if config.get("SECRET_KEY"):
        return config["SECRET_KEY"]
    folder = Path(os.path.dirname(os.path.abspath(config["SPOOL_DIR"])))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_exempt(view):
    view.csrf_exempt = True
    return view


def _check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    view = current_app.view_functions.get(request.endpoint)
    if view is not None and getattr(view, "csrf_exempt", False):
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description=_("The form expired or did not come from this site. Reload the page and try again."))


def _headers(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def install(app: Flask) -> None:
    app.secret_key = secret_key(app.config)
    app.config.update(
        SESSION_COOKIE_NAME="basirat_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(app.config.get("SECURE_COOKIES")),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
    )
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
