"""The admin app alone, for gunicorn in production: ``webapp.wsgi:app``.

Each worker process opens its own warehouse connection. The schema is
migrated before the web processes start (the ``migrate`` service of
docker-compose.yml, or ``basirat migrate``), not by every worker.
"""

from __future__ import annotations

import webapp
from core import logs, settings

config = settings.load()
logs.configure(config["LOG_FORMAT"])
app = webapp.create_app(config)
