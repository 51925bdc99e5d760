"""gunicorn settings shared by Basirat's web processes other than the collector
(``--config python:basirat.gunicorn_conf``); bind and workers are given on the
command line. The log format comes from here (gunicorn's own lines follow
``BASIRAT_LOG_FORMAT`` like the product's), and the shared rate limit tables
of the recommendation endpoint.
"""

from __future__ import annotations

from core import logs as _logs
from core import settings as _settings

worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 30
control_socket_disable = True
logconfig_dict = _logs.gunicorn_logconfig(_settings.load()["LOG_FORMAT"]) or {}


def on_starting(server):
    """The recommendation endpoint's rate limit tables, made before the workers fork so that all share them."""
    from core import limits

    limits.share("rec_ip", "rec_site")
