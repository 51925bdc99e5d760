"""The admin web app."""

from __future__ import annotations

from flask import Flask, render_template

from basirat import settings


def create_app(test_config: dict | None = None, warehouse=None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(settings.load())
    if test_config:
        app.config.from_mapping(test_config)
    if warehouse is None:
        from warehouse import connect

        warehouse = connect(app.config["WAREHOUSE_URL"], cluster=app.config["CLICKHOUSE_CLUSTER"])
    app.extensions["basirat.warehouse"] = warehouse

    @app.route("/")
    def index():
        from warehouse import events, sites

        rows = [{**s, "events": events.count_events(warehouse, s["site_id"])} for s in sites.list_sites(warehouse)]
        return render_template("index.html", sites=rows)

    return app
