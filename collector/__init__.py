"""The collector: Segment-compatible event intake, spool and loader."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, jsonify

from basirat import settings

from .blocklist import Blocklist
from .keys import KeyCache
from .spool import Spool


@dataclass
class CollectorState:
    warehouse: object
    spool: Spool
    keys: KeyCache
    blocklist: Blocklist | None = None


def create_app(test_config: dict | None = None, warehouse=None) -> Flask:
    """The collector app. ``warehouse`` is shared when one process serves all."""
    app = Flask(__name__)
    app.config.from_mapping(settings.load())
    if test_config:
        app.config.from_mapping(test_config)
    init_app(app, warehouse)
    return app


def init_app(app: Flask, warehouse=None) -> None:
    from warehouse import connect

    from .api import bp

    config = app.config
    if warehouse is None:
        warehouse = connect(config["WAREHOUSE_URL"], cluster=config["CLICKHOUSE_CLUSTER"])
    app.extensions["basirat.collector"] = CollectorState(
        warehouse=warehouse,
        spool=Spool(config["SPOOL_DIR"], max_bytes=int(config["SPOOL_MAX_BYTES"])),
        keys=KeyCache(warehouse, float(config["KEY_REFRESH_SECONDS"])),
        blocklist=Blocklist(warehouse, float(config["KEY_REFRESH_SECONDS"])),
    )
    app.register_blueprint(bp)

    @app.errorhandler(404)
    def not_found(_):
        return jsonify({"success": False, "error": "not_found", "message": "no such endpoint"}), 404

    @app.errorhandler(405)
    def not_allowed(_):
        return jsonify({"success": False, "error": "method_not_allowed", "message": "method not allowed"}), 405

    @app.errorhandler(500)
    def internal(_):
        return jsonify({"success": False, "error": "internal", "message": "internal error; nothing was accepted"}), 500
