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

from core.logs import gunicorn_logconfig

log = logging.getLogger("basirat.serve")
WORKER_BOOT_ERROR = 3  # gunicorn.arbiter.Arbiter.WORKER_BOOT_ERROR: the master halts on it


def build(config: dict):
    """Open the warehouse and compose the apps; returns (wsgi, closer)."""
    from .wsgi import Dispatcher

    warehouse = open_warehouse(config)
    socket_server = serve_owner_socket(warehouse)
    public, admin, routes = compose_apps(config, warehouse)
    scheduler = start_scheduler(config, warehouse)
    loader = spool_loader(config, warehouse).start()
    close = closer(warehouse, socket_server, public, routes, scheduler, loader)
    return Dispatcher(admin, public, routes), close


def open_warehouse(config: dict):
    """The configured warehouse, migrated; warns if nobody can sign in yet."""
    from core import connect
    from warehouse.engine.migrate import migrate

    warehouse = connect(config)
    migrate(warehouse, log.info)
    _first_run_hint(warehouse)
    return warehouse


def serve_owner_socket(warehouse):
    """For an embedded warehouse, the Unix socket through which other commands reach it; else None."""
    from warehouse.engine.embedded import SOCKET_NAME, ChdbWarehouse
    from warehouse.engine.socket_proxy import serve_socket

    if not isinstance(warehouse, ChdbWarehouse):
        return None
    return serve_socket(warehouse, os.path.join(warehouse.path, SOCKET_NAME))


def compose_apps(config: dict, warehouse) -> tuple:
    """(collector, admin, routes): the public app, the admin, and the apps mounted under a path."""
    import collector
    import storefront
    import webapp

    public = collector.create_app(config, warehouse=warehouse)
    admin = webapp.create_app(config, warehouse=warehouse)
    routes = {}
    try:
        import recommender.api as rec_api
    except ImportError:
        rec_api = None
    if rec_api is not None:
        routes["/v1/recommendations"] = rec_api.create_app(config, warehouse=warehouse)
    routes["/store"] = storefront.create_app(config, warehouse=warehouse) if config["STOREFRONT"] else no_store
    return public, admin, routes


def start_scheduler(config: dict, warehouse):
    """The mining scheduler in the background, if asked for and the warehouse is ours; else None."""
    from warehouse.engine.embedded import ChdbWarehouse

    if not (config.get("SCHEDULER_IN_SERVE") and isinstance(warehouse, ChdbWarehouse)):
        return None
    # The embedded warehouse is owned by this process, so its jobs run here.
    from mining.scheduler import build_scheduler

    scheduler = build_scheduler(warehouse, config, background=True)
    scheduler.start()
    return scheduler


def spool_loader(config: dict, warehouse):
    """A loader of the configured spool folder into ``warehouse`` (not started)."""
    from collector.loader import Loader

    return Loader(
        warehouse,
        config["SPOOL_DIR"],
        int(config["LOADER_BATCH_ROWS"]),
        float(config["LOADER_INTERVAL"]),
        float(config["LOADER_MAX_BACKOFF"]),
        config=config,
    )


def closer(warehouse, socket_server, public, routes: dict, scheduler, loader):
    """What stops it all: intake first, then the loader drains, then the rest, the warehouse last."""

    def close():
        public.extensions["basirat.collector"].spool.close()
        loader.stop(drain=True)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        rec_app = routes.get("/v1/recommendations")
        if rec_app is not None:
            rec_app.extensions["basirat.recommender"].stop()
        if socket_server is not None:
            _stop_socket(socket_server)
        warehouse.close()

    return close


def _stop_socket(socket_server) -> None:
    socket_server.shutdown()
    socket_server.server_close()
    try:
        os.unlink(socket_server.server_address)
    except OSError:
        pass


def no_store(environ, start_response):
    """``/store/`` when the demo store is not mounted: say where it is instead of a bare 404."""
    body = (
        b"<!doctype html><meta charset=utf-8><title>No demo store here</title>"
        b"<p>The demo store is served by <code>basirat demo</code> (or with BASIRAT_STOREFRONT=true). "
        b'This server has the collector, the recommendations and the <a href="/">admin</a>.</p>'
    )
    start_response("404 Not Found", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _first_run_hint(warehouse) -> None:
    from warehouse.queries import users

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
            # Started in the worker once its app is loaded, never in the
            # master: a master thread caught in an import or codec lookup at
            # fork time would leave the worker a lock nobody releases. The
            # callback reaches the warehouse through HTTP or the owner's socket.
            def post_worker_init(_worker):
                threading.Thread(target=self.on_ready, name="on-ready", daemon=True).start()

            cfg.set("post_worker_init", post_worker_init)

    def load(self):
        try:
            app, self._close = build(self.basirat_config)
        except Exception as exc:
            # One line, then out: gunicorn's master sees the boot error code
            # and stops, instead of the worker lingering on threads it started.
            log.error("basirat cannot start: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            logging.shutdown()
            os._exit(WORKER_BOOT_ERROR)
        return app
