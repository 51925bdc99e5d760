"""Mining jobs, declared as data.

Each job is a thin wrapper: load from the warehouse, call a pure function,
write a new versioned result. ``basirat jobs run NAME`` runs one now; the
scheduler (one process) runs them all on their intervals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from warehouse import popularity as popularity_store

from .housekeeping import run_retention
from .popularity import score_popularity


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable
    minutes: int
    help: str


def run_popularity(warehouse, progress: Callable[[str], None] = print) -> dict:
    progress("popularity: reading product interactions")
    interactions = popularity_store.product_interactions(warehouse)
    scored = score_popularity(interactions)
    version = time.time_ns()
    scored["model_version"] = version
    scored["computed_at"] = pd.Timestamp.now("UTC").floor("s").tz_localize(None)
    scored["computed_at"] = scored["computed_at"].astype("datetime64[s]")
    scored["model_version"] = scored["model_version"].astype("uint64")
    written = popularity_store.write_popularity(warehouse, scored)
    progress(f"popularity: {written} items scored across {scored['site_id'].nunique()} sites")
    return {"items": written, "model_version": version}


def run_sessions(warehouse, progress: Callable[[str], None] = print) -> dict:
    from basirat import settings

    from .sessions import run_sessions as run

    config = settings.load()
    return run(warehouse, progress, int(config["SESSION_TIMEOUT_MINUTES"]), int(config["LATE_EVENTS_MINUTES"]))


def run_identity(warehouse, progress: Callable[[str], None] = print) -> dict:
    from basirat import settings

    from .stitching import run_identity as run

    config = settings.load()
    return run(warehouse, progress, int(config["IDENTITY_MAX_IDS"]), int(config["LATE_EVENTS_MINUTES"]))


JOBS = [
    Job("popularity", run_popularity, 15, "Popular products per site (views, carts, orders), for cold start."),
    Job("retention", run_retention, 1440, "Expire raw events past BASIRAT_RETENTION_DAYS (TTL, or a delete)."),
    Job("identity", run_identity, 5, "Stitch anonymous ids, user ids and emails into people (versioned map)."),
    Job("sessions", run_sessions, 5, "Visits from new events: landing page, source, device, products, outcome."),
]
BY_ID = {job.id: job for job in JOBS}
