"""Housekeeping jobs: data retention, scheduled beside the mining jobs."""

from __future__ import annotations

from typing import Callable

from warehouse.queries.retention import apply_retention


def run_retention(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    """Enforce ``BASIRAT_RETENTION_DAYS``: set the TTL, or delete what is past it."""
    days = int(config["RETENTION_DAYS"])
    done = apply_retention(warehouse, days)
    messages = {
        "kept": "retention: events are kept (BASIRAT_RETENTION_DAYS=0)",
        "ttl": f"retention: the tables expire events after {days} days (TTL)",
        "deleted": f"retention: events older than {days} days deleted (no TTL on this server)",
    }
    progress(messages[done])
    return {"retention": done, "days": days}
