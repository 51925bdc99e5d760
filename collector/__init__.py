"""The collector: Segment-compatible event intake, spool and loader."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from flask import Flask, jsonify

from core.apps import new_app

from . import limits
from .blocklist import Blocklist
from .keys import KeyCache
from .limits import RateLimiter
from .metrics import METRICS
from .spool import Spool


@dataclass
class CollectorState:
    warehouse: object
    spool: Spool
    keys: KeyCache
    ip_limit: RateLimiter
    site_limit: RateLimiter
    blocklist: Blocklist

    def metrics_persist(self) -> None:
        """Share this process's counts with the other processes' ``/metrics``.

        Starts (once per process, after gunicorn's fork) a daemon thread that
        writes them every second, so the counts of a worker's last requests
        show up even if it serves no more.
        """
        if _persisting.get(self.spool.directory) == os.getpid():
            return
        _persisting[self.spool.directory] = os.getpid()
        threading.Thread(target=_persist_forever, args=(self.spool.directory,), daemon=True).start()


_persisting: dict[str, int] = {}


def _persist_forever(directory: str) -> None:
    while True:
        try:
            METRICS.persist(directory, force=True)
        except OSError:
            pass
        time.sleep(1.0)


def create_app(test_config: dict | None = None, warehouse=None) -> Flask:
    """The collector app. ``warehouse`` is shared when one process serves all."""
    app, warehouse = new_app(__name__, test_config, warehouse)
    init_app(app, warehouse)
    return app


def init_app(app: Flask, warehouse) -> None:
    from .api import bp
    from .intake import Intake
    from .tracker_file import bp as tracker_bp

    config = app.config
    spool = Spool(
        config["SPOOL_DIR"], max_bytes=int(config["SPOOL_MAX_BYTES"]), site_share=float(config["SPOOL_SITE_SHARE"])
    )
    app.extensions["basirat.collector"] = CollectorState(
        warehouse=warehouse,
        spool=spool,
        keys=KeyCache(warehouse, float(config["KEY_REFRESH_SECONDS"]), os.path.join(spool.directory, "keys.json")),
        ip_limit=RateLimiter(float(config["IP_RATE_LIMIT"]), buckets=limits.table("ip")),
        site_limit=RateLimiter(float(config["SITE_RATE_LIMIT"]), buckets=limits.table("site")),
        blocklist=Blocklist(warehouse, float(config["KEY_REFRESH_SECONDS"])),
    )
    app.register_blueprint(bp)
    app.register_blueprint(tracker_bp)
    app.wsgi_app = Intake(app, app.wsgi_app)

    @app.errorhandler(404)
    def not_found(_):
        return jsonify({"success": False, "error": "not_found", "message": "no such endpoint"}), 404

    @app.errorhandler(405)
    def not_allowed(_):
        return jsonify({"success": False, "error": "method_not_allowed", "message": "method not allowed"}), 405

    @app.errorhandler(500)
    def internal(_):
        return jsonify({"success": False, "error": "internal", "message": "internal error; nothing was accepted"}), 500
