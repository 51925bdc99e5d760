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
    contexts = run_context_popularity(warehouse, progress)
    return {"items": written, "model_version": version, "contexts": contexts["items"]}


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


# Recommendation models: each job loads interactions, calls the pure mining
# functions and writes a new model_version (see warehouse/recommendations.py).
def _now_version() -> int:
    return time.time_ns()


def _sessions(warehouse) -> pd.DataFrame:
    from warehouse import recommendations as rec_store

    from .mining import sessionize

    return sessionize(rec_store.interactions(warehouse))


def run_catalog(warehouse, progress: Callable[[str], None] = print) -> dict:
    from warehouse import recommendations as rec_store

    from .mining import catalog_changes

    progress("catalog: reading products seen in events")
    changes = catalog_changes(rec_store.tracked_products(warehouse), rec_store.current_products(warehouse))
    written = rec_store.write_products(warehouse, changes) if len(changes) else 0
    progress(f"catalog: {written} products new or changed")
    return {"products": written}


def run_rules(warehouse, progress: Callable[[str], None] = print) -> dict:
    from warehouse import recommendations as rec_store

    from .mining import baskets
    from .rules import basket_rules, top_rules

    progress("rules: reading orders and carts")
    found = baskets(_sessions(warehouse))
    frames = []
    for site_id, group in found.groupby("site_id"):
        count = group["basket_id"].nunique()
        # A pair must recur in a share of baskets, not just twice, once a
        # store has tens of thousands of baskets: the rules stay meaningful
        # and FP-growth stays within the job's time.
        min_count = max(2, count // 3000)
        progress(f"rules: {site_id}: FP-growth over {count:,} baskets, pairs in >= {min_count}")
        rules = top_rules(basket_rules(group, min_count=min_count, min_confidence=0.01, max_items=1000))
        frames.append(rules.assign(site_id=site_id))
    rules = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["site_id", "antecedent"])
    out = pd.DataFrame(
        {
            "site_id": rules["site_id"],
            "relation": "bought_together",
            "item_id": rules["antecedent"],
            "neighbor_id": rules.get("consequent"),
            "score": rules.get("confidence"),
            "support": rules.get("support"),
            "lift": rules.get("lift"),
        }
    )
    version = _now_version()
    written = rec_store.write_model(warehouse, "rec_item_neighbors", "rules", out, version)
    progress(f"rules: {written:,} rules written (model_version {version})")
    return {"rules": written, "model_version": version}


def run_cooccurrence(warehouse, progress: Callable[[str], None] = print) -> dict:
    from warehouse import recommendations as rec_store

    from .cooccurrence import cooccurrence

    progress("cooccurrence: reading sessions")
    events = _sessions(warehouse)
    events = events.assign(kind=events["kind"].replace({"cart": "view"}))
    now = time.time()
    frames = []
    for site_id, group in events.groupby("site_id"):
        progress(f"cooccurrence: {site_id}: {group['session_id'].nunique():,} sessions")
        frames.append(cooccurrence(group, now=now).assign(site_id=site_id))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["site_id", "score"])
    out = out.assign(support=0.0, lift=0.0)
    version = _now_version()
    written = rec_store.write_model(warehouse, "rec_item_neighbors", "cooccurrence", out, version)
    progress(f"cooccurrence: {written:,} neighbours written (model_version {version})")
    return {"neighbors": written, "model_version": version}


def run_session_index(warehouse, progress: Callable[[str], None] = print) -> dict:
    from warehouse import recommendations as rec_store

    from .mining import recent_sessions

    progress("sessions: indexing recent sessions for session-kNN")
    out = recent_sessions(_sessions(warehouse))
    out["last_seen"] = pd.to_datetime(out["last_seen"], unit="s").astype("datetime64[s]")
    version = _now_version()
    written = rec_store.write_model(warehouse, "rec_sessions", "sessions", out, version)
    progress(f"sessions: {written:,} sessions written (model_version {version})")
    return {"sessions": written, "model_version": version}


def run_person(warehouse, progress: Callable[[str], None] = print) -> dict:
    from warehouse import recommendations as rec_store

    from .mining import person_items, with_person

    progress("person: reading histories and identities")
    history = with_person(rec_store.interactions(warehouse), rec_store.person_links(warehouse))
    latest = rec_store.latest_versions(warehouse)
    frames = [
        rec_store.load_model(warehouse, "rec_item_neighbors", site, version).assign(site_id=site)
        for (site, model), version in latest.items()
        if model in ("rules", "cooccurrence")
    ]
    columns = ["site_id", "item_id", "neighbor_id", "score"]
    neighbors = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    out = person_items(history, neighbors[columns], now=time.time())
    version = _now_version()
    written = rec_store.write_model(warehouse, "rec_person_items", "person", out, version)
    progress(f"person: {written:,} recommendations for {out['person_id'].nunique():,} people (model_version {version})")
    return {"items": written, "model_version": version}


def run_context_popularity(warehouse, progress: Callable[[str], None] = print) -> dict:
    from warehouse import recommendations as rec_store

    from .mining import context_popularity

    progress("popularity: overall, per category and trending")
    events = rec_store.interactions(warehouse)
    categories = rec_store.current_products(warehouse).rename(columns={"product_id": "item_id"})
    out = context_popularity(events, categories, now=time.time())
    version = _now_version()
    written = rec_store.write_model(warehouse, "rec_popularity", "popularity", out, version)
    progress(f"popularity: {written:,} items over {out['context'].nunique() if len(out) else 0} contexts")
    return {"items": written, "model_version": version}


# In dependency order: people and visits first, then what is mined from them.
JOBS = [
    Job("identity", run_identity, 5, "Stitch anonymous ids, user ids and emails into people (versioned map)."),
    Job("sessions", run_sessions, 5, "Visits from new events: landing page, source, device, products, outcome."),
    Job("popularity", run_popularity, 15, "Popular products per site (views, carts, orders), for cold start."),
    Job("catalog", run_catalog, 15, "Products' category, price and stock flag from events, for business filters."),
    Job("rules", run_rules, 60, "Frequently bought together: mlxtend FP-growth rules over orders and carts."),
    Job("cooccurrence", run_cooccurrence, 30, "Also viewed / viewed-then-bought neighbours with time decay."),
    Job("session_index", run_session_index, 10,
        "Recent sessions indexed for session-kNN (STAN) scoring at request time."),
    Job("person", run_person, 60, "Per-person recommendations from the whole stitched history."),
    Job("scores", run_scores, 60, "Per person: predicted value, churn risk (BG/NBD + Gamma-Gamma), RFM, satisfaction."),
    Job("segments", run_segments, 60, "RFM cells and behaviour segments with entry/exit history."),
    Job("retention", run_retention, 1440, "Expire raw events past BASIRAT_RETENTION_DAYS (TTL, or a delete)."),
]
BY_ID = {job.id: job for job in JOBS}
