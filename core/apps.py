"""What each of the product's web apps (collector, recommendation endpoint, admin, demo store) starts from."""

from __future__ import annotations

from flask import Flask

from warehouse import Warehouse

from . import connect, settings


def new_app(import_name: str, overrides: dict | None = None, warehouse: Warehouse | None = None):
    """``(app, warehouse)``: a Flask app whose config is the settings with ``overrides`` on top, and
    the warehouse it serves: ``warehouse`` when the process shares one, else the one the config names."""
    app = Flask(import_name)
    app.config.from_mapping(settings.load())
    if overrides:
        app.config.from_mapping(overrides)
    return app, warehouse if warehouse is not None else connect(app.config)
