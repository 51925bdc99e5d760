"""Log lines for people (``text``) or for log collectors (``json``).

``BASIRAT_LOG_FORMAT=json`` writes one JSON object a line on stderr (time,
level, logger, message, and the traceback when there is one), which Docker,
journald and log shippers index without a parser of their own.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from .settings import SettingsError

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Route every logger (the product's and gunicorn's) through one handler."""
    if fmt not in FORMATS:
        raise SettingsError(f"BASIRAT_LOG_FORMAT={fmt!r} is not one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("gunicorn.error", "gunicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # The driver logs each failed connect with a traceback; the product's own
    # error already says what failed, in one line.
    logging.getLogger("clickhouse_driver").setLevel(logging.CRITICAL)


def gunicorn_logconfig(fmt: str) -> dict | None:
    """gunicorn's ``logconfig_dict``: its own loggers set up their handlers
    after the app's, so JSON output is given to gunicorn as configuration."""
    if fmt != "json":
        return None
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "core.logs.JsonFormatter"}},
        "handlers": {"console": handler, "error_console": handler},
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
        },
    }
