"""The demo store: a small gift shop with the Basirat snippet embedded.

It sells the Online Retail (France) catalog, so a person clicking through it
produces the same kind of events as the demo history, and sees them in the
warehouse seconds later. Mounted under ``/store/`` by ``basirat serve``.
"""

from __future__ import annotations

import secrets

from flask import Flask, render_template, session

from core.apps import new_app


def create_app(test_config: dict | None = None, warehouse=None) -> Flask:
    from . import i18n
    from .catalog import Catalog, products_from_invoices
    from .retail import read_retail
    from .site_keys import SiteKeys
    from .views import bp

    app, warehouse = new_app(__name__, test_config, warehouse)
    # Carts live in a signed cookie; without a configured secret they last as
    # long as the process, which is what a demo needs.
    app.secret_key = app.config["SECRET_KEY"] or secrets.token_hex(32)
    app.config.update(SESSION_COOKIE_NAME="basirat_store", SESSION_COOKIE_SAMESITE="Lax")
    invoices = read_retail()
    app.extensions["storefront.catalog"] = Catalog(products_from_invoices(invoices))
    app.extensions["storefront.customers"] = {str(c) for c in invoices["CustomerID"].unique()}
    app.extensions["storefront.keys"] = SiteKeys(warehouse, app.config["STOREFRONT_SITE"])
    app.register_blueprint(bp, url_prefix="/store")
    i18n.install(app)
    _hook_pages(app)
    return app


def _hook_pages(app: Flask) -> None:
    collector = app.config["STOREFRONT_COLLECTOR_URL"].rstrip("/")

    @app.context_processor
    def tracking():
        keys = app.extensions["storefront.keys"]
        return {"keys": keys.get(), "collector": collector, "user_hash": keys.user_hash(session.get("user", ""))}

    @app.after_request
    def security_headers(response):
        # No inline script anywhere: the snippet is a plain <script src>.
        origin = f" {collector}" if collector else ""
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self'{origin}; connect-src 'self'{origin}; "
            "img-src 'self' data:; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        return response

    @app.errorhandler(404)
    def not_found(_):
        catalog = app.extensions["storefront.catalog"]
        return render_template("missing.html", track=[], cart_count=0, catalog=catalog), 404
