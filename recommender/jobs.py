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


def run_segments(warehouse, progress: Callable[[str], None] = print, webhook_options=None) -> dict:
    from basirat import settings
    from warehouse import webhooks as hook_store

    from .membership import refresh_all
    from .webhooks import WebhookOptions, notify

    options = webhook_options or WebhookOptions.from_settings(settings.load())
    progress("segments: recomputing RFM cells and behaviour segments")
    moved = refresh_all(warehouse, progress)
    for site_id, changes in moved.items():
        hooks = hook_store.list_webhooks(warehouse, site_id) if len(changes) else []
        records = notify(hooks, site_id, changes, options)
        hook_store.record_deliveries(warehouse, records)
        failed = [r for r in records if r["error"]]
        if records:
            progress(f"segments: site {site_id}: {len(records)} webhook deliveries, {len(failed)} failed")
    return {site: len(changes) for site, changes in moved.items()}


def run_scores(warehouse, progress: Callable[[str], None] = print) -> dict:
    from warehouse import scores as score_store
    from warehouse import sites

    from .membership import naive_times, site_facts
    from .scoring import person_scores

    version, written = time.time_ns(), 0
    for site in sites.list_sites(warehouse):
        facts, as_of = site_facts(warehouse, site["site_id"])
        if as_of is None:
            continue
        progress(
            f"scores: site {site['site_id']}: fitting BG/NBD + Gamma-Gamma on {int((facts['orders'] > 0).sum())} buyers"
        )
        orders = naive_times(score_store.order_days(warehouse, site["site_id"]), ["when"])
        frame = person_scores(facts, orders, score_store.feedback(warehouse, site["site_id"]), as_of)
        frame.insert(0, "model_version", version)
        frame.insert(0, "site_id", site["site_id"])
        frame["model_version"] = frame["model_version"].astype("uint64")
        frame["computed_at"] = pd.Timestamp.now("UTC").floor("s").tz_localize(None)
        frame["computed_at"] = frame["computed_at"].astype("datetime64[s]")
        written += score_store.write_scores(warehouse, frame)
    progress(f"scores: {written} people scored")
    return {"people": written, "model_version": version}


JOBS = [
    Job("popularity", run_popularity, 15, "Popular products per site (views, carts, orders), for cold start."),
    Job("scores", run_scores, 60, "Per person: predicted value, churn risk (BG/NBD + Gamma-Gamma), RFM, satisfaction."),
    Job("segments", run_segments, 60, "RFM cells and behaviour segments with entry/exit history."),
]
BY_ID = {job.id: job for job in JOBS}
