"""Housekeeping jobs: data retention, scheduled beside the mining jobs."""

from __future__ import annotations

import time
from typing import Callable

from warehouse.queries import basket_counts, mining_rows, scores, segments, visit_items, visitor_votes
from warehouse.queries.recommendations import prune_versions
from warehouse.queries.retention import apply_retention, wait_for_deletes

STALE_COPY_NS = 86400 * 10**9


def run_retention(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    """Enforce ``BASIRAT_RETENTION_DAYS`` (a TTL, or a delete) and ``BASIRAT_MODEL_VERSIONS_KEPT``."""
    days = int(config["RETENTION_DAYS"])
    done = apply_retention(warehouse, days)
    messages = {
        "kept": "retention: events are kept (BASIRAT_RETENTION_DAYS=0)",
        "ttl": f"retention: the tables expire events after {days} days (TTL)",
        "deleted": f"retention: events older than {days} days deleted (no TTL on this server)",
    }
    progress(messages[done])
    if expired := segments.expire_stays(warehouse, days, progress=progress):
        progress(f"retention: {expired:,} segment stays that ended over {days} days ago deleted")
    keep = int(config["MODEL_VERSIONS_KEPT"])
    pruned = prune_versions(warehouse, keep)
    pruned_scores = scores.prune_versions(warehouse, keep)
    visit_items.drop_old_generations(warehouse)
    visitor_votes.drop_old_generations(warehouse)
    segments.drop_old_generations(warehouse)
    basket_counts.drop_old_generations(warehouse)
    # A full run drops its copy of the events as it ends; one a stopped process left goes after a day.
    if stale := mining_rows.drop_stale(warehouse, before=time.time_ns() - STALE_COPY_NS):
        progress(f"retention: {stale} copies of events left by stopped runs dropped")
    if waited := wait_for_deletes(warehouse):
        progress(f"retention: {waited} deletes done")
    progress(f"retention: {len(pruned) + pruned_scores} models pruned to their {keep} newest versions")
    return {"retention": done, "days": days, "pruned": len(pruned) + pruned_scores}
