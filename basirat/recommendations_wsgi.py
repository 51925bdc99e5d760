"""The recommendation endpoint alone, for gunicorn in production:
``basirat.recommendations_wsgi:app`` serves ``GET /v1/recommendations``.

It lives here rather than in ``recommender/`` because it composes settings,
logging and the warehouse connection, as ``basirat serve`` does in one
process.
"""

from __future__ import annotations

from core import logs, settings


def build(config: dict):
    from core import connect

    try:
        import recommender.api as api
    except ImportError as exc:
        raise RuntimeError("this build of Basirat has no recommendation endpoint (recommender.api)") from exc
    warehouse = connect(config)
    return api.create_app(config, warehouse=warehouse)


config = settings.load()
logs.configure(config["LOG_FORMAT"])
app = build(config)
