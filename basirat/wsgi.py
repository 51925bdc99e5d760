"""One WSGI entry for a process that serves every room (``basirat serve``).

Public paths go to the collector and the recommendation endpoint (CORS open,
key-authenticated); everything else is the admin app with its own login and
cookies. In production the same apps run as separate gunicorn services.
"""

from __future__ import annotations

PUBLIC_PREFIXES = ("/v1/", "/healthz", "/metrics", "/t.js", "/e.js", "/tracker/")


class Dispatcher:
    def __init__(self, admin, public, routes: dict | None = None):
        self.admin = admin
        self.public = public
        self.routes = routes or {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        for prefix, app in self.routes.items():
            if path.startswith(prefix):
                return app(environ, start_response)
        if path.startswith(PUBLIC_PREFIXES):
            return self.public(environ, start_response)
        return self.admin(environ, start_response)
