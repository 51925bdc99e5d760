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


JOBS = [
    Job("popularity", run_popularity, 15, "Popular products per site (views, carts, orders), for cold start."),
    Job("retention", run_retention, 1440, "Expire raw events past BASIRAT_RETENTION_DAYS (TTL, or a delete)."),
]
BY_ID = {job.id: job for job in JOBS}
