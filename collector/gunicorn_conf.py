"""gunicorn settings of the production collector (``--config python:collector.gunicorn_conf``).

Threaded workers: requests of one worker share each spool fdatasync, so more
threads means fewer syncs per request. On SIGTERM gunicorn stops accepting,
lets requests in flight finish (``graceful_timeout``), and each worker then
closes its spool segment (fsync'd and renamed ``.seg``) and writes its counts
for ``/metrics``. Every value comes from the ``BASIRAT_*`` settings.
"""

from __future__ import annotations

import os
from collections import Counter

from core import private as _private
from core import settings as _settings

_config = _settings.load()
_private.restrict(_config)  # the spool's files are private to this account

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


def on_starting(server):
    """Make the rate limit tables before any worker is forked, so that all share them."""
    from collector import limits

    limits.share("ip", "site")


def pre_fork(server, worker):
    """Choose the core of a new worker: the one with the fewest live workers.

    A worker's threads share one GIL, so it never uses more than one core at
    a time. Kept on one core, its threads hand the GIL over (around every
    spool fdatasync) without waking a thread on another core, a wake-up that
    is costly on virtual machines. A worker that replaces a dead one takes
    the core it left.
    """
    if not _config["COLLECTOR_PIN_WORKERS"] or not hasattr(os, "sched_getaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    taken = Counter(getattr(w, "basirat_core", None) for w in server.WORKERS.values())
    worker.basirat_core = min(cores, key=lambda core: (taken[core], core))


def post_fork(server, worker):
    core = getattr(worker, "basirat_core", None)
    if core is not None:
        try:
            os.sched_setaffinity(0, {core})
        except OSError as exc:  # a container may forbid it; the worker then runs anywhere
            server.log.warning("could not keep worker %s on core %s: %s", worker.pid, core, exc)


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
