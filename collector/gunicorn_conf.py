"""gunicorn settings of the production collector (``--config python:collector.gunicorn_conf``).

Threaded workers: requests of one worker share each spool fdatasync, so more
threads means fewer syncs per request. On SIGTERM gunicorn stops accepting,
lets requests in flight finish (``graceful_timeout``), and each worker then
closes its spool segment (fsync'd and renamed ``.seg``) and writes its counts
for ``/metrics``. Every value comes from the ``BASIRAT_*`` settings.
"""

from __future__ import annotations

import os

from basirat import settings as _settings

_config = _settings.load()

bind = f"{_config['HOST']}:{_config['PORT']}"
workers = int(_config["COLLECTOR_WORKERS"]) or 2 * (os.cpu_count() or 1)
worker_class = "gthread"
threads = int(_config["COLLECTOR_THREADS"])
timeout = 30
graceful_timeout = 30
keepalive = 5
backlog = 2048
max_requests = 0
accesslog = None
control_socket_disable = True
proc_name = "basirat-collector"


def worker_exit(server, worker):
    """Flush the spool of a worker that stops (graceful or after a timeout)."""
    from collector.metrics import METRICS

    app = getattr(worker, "wsgi", None)
    state = getattr(app, "extensions", {}).get("basirat.collector")
    if state is not None:
        state.spool.close()
        try:
            METRICS.persist(state.spool.directory, force=True)
        except OSError:
            pass
