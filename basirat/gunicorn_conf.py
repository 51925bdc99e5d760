"""gunicorn settings shared by Basirat's web processes other than the collector
(``--config python:basirat.gunicorn_conf``); bind and workers are given on the
command line. From here come the log format (gunicorn's own lines follow
``BASIRAT_LOG_FORMAT`` like the product's), a private umask, and the tables made
before the workers are forked so that all share them: the admin's sign-in
throttling and the recommendation endpoint's rate limits.
"""

from __future__ import annotations

from core import logs as _logs
from core import private as _private
from core import settings as _settings

_private.restrict(_settings.load())  # whatever these processes write in the data folder is private

worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 30
control_socket_disable = True
logconfig_dict = _logs.gunicorn_logconfig(_settings.load()["LOG_FORMAT"]) or {}


def on_starting(server):
    """Make the shared tables before any worker is forked: sign-in throttling, recommendation rate limits."""
    from core import limits
    from webapp import throttle

    throttle.share()
    limits.share("rec_ip", "rec_site")
