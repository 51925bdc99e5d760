"""``basirat serve``: one process that owns the embedded warehouse.

chDB allows one process per data folder, so this process holds it and runs
everything inside as threads: the HTTP apps under gunicorn's threaded worker,
the spool loader, and a Unix socket through which other ``basirat`` commands
reach the same warehouse.
"""

from __future__ import annotations

import logging
import os
import threading

from gunicorn.app.base import BaseApplication

from .logs import gunicorn_logconfig

log = logging.getLogger("basirat.serve")


def build(config: dict):
    """Open the warehouse and compose the apps; returns (wsgi, closer)."""
    import collector
    import storefront
    import webapp
    from collector.loader import Loader
    from warehouse import connect
    from warehouse.embedded import SOCKET_NAME, ChdbWarehouse
    from warehouse.migrate import migrate
    from warehouse.socket_proxy import serve_socket

    from .wsgi import Dispatcher

    warehouse = connect(config["WAREHOUSE_URL"], cluster=config["CLICKHOUSE_CLUSTER"])
    migrate(warehouse, log.info)
    _first_run_hint(warehouse)
    socket_server = None
    if isinstance(warehouse, ChdbWarehouse):
        socket_server = serve_socket(warehouse, os.path.join(warehouse.path, SOCKET_NAME))
    public = collector.create_app(config, warehouse=warehouse)
    admin = webapp.create_app(config, warehouse=warehouse)
    routes = {}
    try:
        import recommender.api as rec_api
    except ImportError:
        rec_api = None
    if rec_api is not None:
        routes["/v1/recommendations"] = rec_api.create_app(config, warehouse=warehouse)
    routes["/store"] = storefront.create_app(config, warehouse=warehouse)
    loader = Loader(
        warehouse,
        config["SPOOL_DIR"],
        int(config["LOADER_BATCH_ROWS"]),
        float(config["LOADER_INTERVAL"]),
        float(config["LOADER_MAX_BACKOFF"]),
        config=config,
    ).start()

    def close():
        public.extensions["basirat.collector"].spool.close()
        loader.stop(drain=True)
        if socket_server is not None:
            socket_server.shutdown()
            socket_server.server_close()
            try:
                os.unlink(socket_server.server_address)
            except OSError:
                pass
        warehouse.close()

    return Dispatcher(admin, public, routes), close


def _first_run_hint(warehouse) -> None:
    from warehouse import users

    if users.count_users(warehouse, active_only=True) == 0:
        log.warning("no admin users yet: run `basirat users create you@example.com --role admin` to sign in")


class EmbeddedServer(BaseApplication):
    """gunicorn with exactly one worker process (the chDB owner) and threads."""

    def __init__(self, config: dict, threads: int = 16, on_ready=None):
        self.basirat_config = config
        self.threads = threads
        self.on_ready = on_ready
        self._close = None
        super().__init__()

    def load_config(self):
        cfg = self.cfg
        cfg.set("bind", f"{self.basirat_config['HOST']}:{self.basirat_config['PORT']}")
        cfg.set("workers", 1)
        cfg.set("worker_class", "gthread")
        cfg.set("threads", self.threads)
        cfg.set("timeout", 120)
        cfg.set("graceful_timeout", 30)
        cfg.set("accesslog", None)
        cfg.set("control_socket_disable", True)
        logconfig = gunicorn_logconfig(self.basirat_config.get("LOG_FORMAT", "text"))
        if logconfig is not None:
            cfg.set("logconfig_dict", logconfig)
        server = self

        def worker_exit(_server, _worker):
            if server._close is not None:
                server._close()

        cfg.set("worker_exit", worker_exit)
        if self.on_ready is not None:
            # when_ready runs in the master; the callback must reach the
            # warehouse through HTTP or the owner's socket, never open it.
            cfg.set("when_ready", lambda _server: threading.Thread(target=self.on_ready, daemon=True).start())

    def load(self):
        app, self._close = build(self.basirat_config)
        return app
