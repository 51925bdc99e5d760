"""One error page for every failure: a status, a sentence, a way back; never a trace."""

from __future__ import annotations

import logging

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger("basirat.webapp")

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    401: (_l("Sign in needed"), _l("Sign in to continue.")),
    403: (_l("Not allowed"), _l("Your account may not open this page. Ask an admin for access.")),
    404: (_l("Not found"), _l("There is nothing at this address. It may have been removed, or the link is wrong.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    429: (_l("Too many attempts"), _l("Wait a while before trying again.")),
    500: (_l("Something went wrong"), _l("The error was logged. Try again in a moment.")),
}


def _render(error: HTTPException):
    code = error.code or 500
    title, default = MESSAGES.get(code, (error.name, error.description))
    api = request.path.startswith("/api/")
    explained = code in (400, 429) or (api and code == 401)
    message = error.description if explained and error.description else default
    if api or request.accept_mimetypes.best == "application/json":
        return jsonify(error=str(title), message=str(message)), code
    return render_template("error.html", code=code, title=title, message=message), code


def _unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _render(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return _render(InternalServerError())


def install(app) -> None:
    app.register_error_handler(HTTPException, _render)
    app.register_error_handler(Exception, _unexpected)
