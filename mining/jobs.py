"""Every scheduled job, declared as data, in the order a full run takes them.

Each job is a thin wrapper: load from the warehouse, call a pure function,
write a new versioned result. Jobs take ``(warehouse, config, progress)``:
settings come from the process that runs them (``basirat jobs run``, the
scheduler, a test), never from the environment inside the job.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from activation.webhooks import WebhookOptions, notify
from core.versions import new_version, stamped
from recommender.jobs import (
    run_catalog,
    run_cooccurrence,
    run_person,
    run_popularity,
    run_rules,
    run_sequential,
    run_session_index,
)
from recommender.site_evaluation import run_site_evaluations
from warehouse.queries import scores as score_store
from warehouse.queries import sessions as mark_store
from warehouse.queries import sites
from warehouse.queries import webhooks as hook_store

from . import matching, sessions, stitching
from .membership import naive_times, refresh_all, site_facts
from .retention import run_retention
from .scoring import person_scores

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Job:
    id: str
    run: Callable
    minutes: int
    help: str


def run_matching(warehouse, config: dict, progress: Progress = print) -> dict:
    return matching.run_matching(warehouse, config, progress)


def run_sessions(warehouse, config: dict, progress: Progress = print) -> dict:
    timeout, late = int(config["SESSION_TIMEOUT_MINUTES"]), int(config["LATE_EVENTS_MINUTES"])
    return sessions.run_sessions(
        warehouse, progress, timeout, late, full=bool(config.get("full")), only=config.get("sites")
    )


def run_identity(warehouse, config: dict, progress: Progress = print) -> dict:
    max_ids, late = int(config["IDENTITY_MAX_IDS"]), int(config["LATE_EVENTS_MINUTES"])
    return stitching.run_identity(warehouse, progress, max_ids, late, only=config.get("sites"))


def run_segments(warehouse, config: dict, progress: Progress = print, webhook_options=None) -> dict:
    """Recompute every segment, then tell each site's webhooks who entered and left."""
    options = webhook_options or WebhookOptions.from_settings(config)
    progress("segments: recomputing RFM cells and behaviour segments")
    moved = refresh_all(warehouse, progress, int(config["SEGMENT_HISTORY_DAYS"]), config.get("sites"), config)
    _mark_run(warehouse, "segments", list(moved))
    for site_id, changes in moved.items():
        hooks = hook_store.list_webhooks(warehouse, site_id) if len(changes) else []
        records = notify(hooks, site_id, changes, options)
        hook_store.record_deliveries(warehouse, records)
        failed = [r for r in records if r["error"]]
        if records:
            progress(f"segments: site {site_id}: {len(records)} webhook deliveries, {len(failed)} failed")
    return {site: len(changes) for site, changes in moved.items()}


def _mark_run(warehouse, job: str, site_ids: list[str]) -> None:
    """Note when a job that keeps no high-water mark last ran on these sites, for the profile's "as of"."""
    version = new_version()
    ran = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    for site_id in site_ids:
        mark_store.set_high_water(warehouse, site_id, job, ran, version)


def run_scores(warehouse, config: dict, progress: Progress = print) -> dict:
    version, written = new_version(), 0
    for site in sites.list_sites(warehouse, config.get("sites")):
        # The models read buyers' orders only (RFM ranks buyers by their orders; value is fitted on orders).
        facts, as_of = site_facts(warehouse, site["site_id"], orders_only=True, config=config, progress=progress)
        if as_of is None:
            continue
        progress(
            f"scores: site {site['site_id']}: fitting BG/NBD + Gamma-Gamma on {int((facts['orders'] > 0).sum())} buyers"
        )
        orders = naive_times(score_store.order_days(warehouse, site["site_id"]), ["when"])
        feedback = score_store.feedback(warehouse, site["site_id"])
        warehouse.release_memory()
        frame = person_scores(facts, orders, feedback, as_of, int(config["CHURN_HORIZON_DAYS"]))
        frame.insert(0, "site_id", site["site_id"])
        written += score_store.write_scores(warehouse, stamped(frame, version))
    progress(f"scores: {written} people scored")
    return {"people": written, "model_version": version}


# In dependency order: people and visits first, then what is mined from them.
JOBS = [
    Job("identity", run_identity, 5, "Stitch anonymous ids, user ids and emails into people (versioned map)."),
    Job("matching", run_matching, 60, "Match imported customer records (Splink) into people; grey zone to review."),
    Job("sessions", run_sessions, 5, "Visits from new events: landing page, source, device, products, outcome."),
    Job("catalog", run_catalog, 15, "Products' category, price and stock flag from events, for business filters."),
    Job("popularity", run_popularity, 15, "Popular products per site (distinct visitors), for cold start."),
    Job("rules", run_rules, 60, "Frequently bought together: two-item rules over orders and carts (support, lift)."),
    Job("cooccurrence", run_cooccurrence, 30, "Also viewed / viewed-then-bought neighbours with time decay."),
    Job("sequential", run_sequential, 30, "Followed-by rules (sequential rules) over visits, for session ranking."),
    Job("session_index", run_session_index, 10, "Recent sessions indexed for session-kNN (STAN), for serving."),
    Job("person", run_person, 60, "Per-person recommendations from the whole stitched history."),
    Job(
        "scores",
        run_scores,
        60,
        "Per person: value and churn risk (MBG/NBD, Gamma-Gamma), RFM, satisfaction.",
    ),
    Job("segments", run_segments, 60, "RFM cells and behaviour segments with entry/exit history."),
    Job("rec_evaluation", run_site_evaluations, 10080, "Weekly: each site's recommendations scored on its own visits."),
    Job("retention", run_retention, 1440, "Expire raw events past BASIRAT_RETENTION_DAYS (TTL, or a delete)."),
]
BY_ID = {job.id: job for job in JOBS}


def run_all(warehouse, config: dict, progress: Progress = print, jobs: list[Job] = JOBS) -> None:
    """Every job once, in order (``basirat jobs run``, the demo)."""
    for job in jobs:
        job.run(warehouse, config, progress)
        warehouse.release_memory()
