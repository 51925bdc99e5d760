"""``basirat recommend``: the recommendation endpoint alone, in several processes.

Each worker process holds its own in-memory index and live sessions and
reaches the warehouse only from background threads: a ClickHouse server in
production, or the process that owns an embedded folder (``basirat serve``)
through its socket. Requests never wait on either, so the endpoint scales
with processes (one per core) while exactly one process owns chDB.
"""

from __future__ import annotations

import atexit

from gunicorn.app.base import BaseApplication


class RecommendServer(BaseApplication):
    def __init__(self, config: dict, workers: int = 2, threads: int = 4):
        self.basirat_config = config
        self.workers = workers
        self.threads = threads
        super().__init__()

    def load_config(self):
        cfg = self.cfg
        cfg.set("bind", f"{self.basirat_config['HOST']}:{self.basirat_config['PORT']}")
        cfg.set("workers", self.workers)
        cfg.set("worker_class", "gthread")
        cfg.set("threads", self.threads)
        cfg.set("keepalive", 30)
        cfg.set("accesslog", None)
        cfg.set("control_socket_disable", True)
        cfg.set("on_starting", _share_limits)

    def load(self):
        from core import connect
        from recommender.api import create_app

        warehouse = connect(self.basirat_config)
        app = create_app(self.basirat_config, warehouse=warehouse)
        # A worker leaving flushes the answers it logged but has not written yet.
        atexit.register(app.extensions["basirat.recommender"].stop)
        return app


def _share_limits(server) -> None:
    """The rate limit tables, made in the master before it forks: every worker counts in the same buckets."""
    from core import limits

    limits.share("rec_ip", "rec_site")
