"""Recommendation jobs: each reads interactions, calls the pure mining functions, writes a new model version.

Every job takes ``(warehouse, config, progress)``; ``mining.jobs`` lists them
with the other jobs and their intervals.
"""

from __future__ import annotations

import time
from typing import Callable

import pandas as pd

from core.versions import new_version, stamped
from warehouse.queries import popularity as popularity_store
from warehouse.queries import recommendations as rec_store

from .cooccurrence import cooccurrence
from .mining import baskets, catalog_changes, context_popularity, person_items, recent_sessions, sessionize, with_person
from .popularity import score_popularity
from .rules import basket_rules, top_rules


def run_popularity(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    progress("popularity: reading product interactions")
    interactions = popularity_store.product_interactions(warehouse, min_visitors=int(config["REC_MIN_VISITORS"]))
    scored = score_popularity(interactions)
    version = new_version()
    written = popularity_store.write_popularity(warehouse, stamped(scored, version))
    progress(f"popularity: {written} items scored across {scored['site_id'].nunique()} sites")
    contexts = run_context_popularity(warehouse, config, progress)
    return {"items": written, "model_version": version, "contexts": contexts["items"]}


def _sessions(warehouse, config: dict) -> pd.DataFrame:
    """Interactions cut into visits by the product's one visit gap (``SESSION_TIMEOUT_MINUTES``)."""
    return sessionize(rec_store.interactions(warehouse), float(config["SESSION_TIMEOUT_MINUTES"]))


def run_catalog(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    progress("catalog: reading products seen in events")
    changes = catalog_changes(rec_store.tracked_products(warehouse), rec_store.current_products(warehouse))
    written = rec_store.write_products(warehouse, changes) if len(changes) else 0
    progress(f"catalog: {written} products new or changed")
    return {"products": written}


def run_rules(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    progress("rules: reading orders and carts")
    found = baskets(_sessions(warehouse, config))
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
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_item_neighbors", "rules", out, version)
    progress(f"rules: {written:,} rules written (model_version {version})")
    return {"rules": written, "model_version": version}


def run_cooccurrence(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    progress("cooccurrence: reading sessions")
    events = _sessions(warehouse, config)
    events = events.assign(kind=events["kind"].replace({"cart": "view"}))
    now = time.time()
    frames = []
    for site_id, group in events.groupby("site_id"):
        progress(f"cooccurrence: {site_id}: {group['session_id'].nunique():,} sessions")
        frames.append(cooccurrence(group, now=now).assign(site_id=site_id))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["site_id", "score"])
    out = out.assign(support=0.0, lift=0.0)
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_item_neighbors", "cooccurrence", out, version)
    progress(f"cooccurrence: {written:,} neighbours written (model_version {version})")
    return {"neighbors": written, "model_version": version}


def run_session_index(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    progress("sessions: indexing recent sessions for session-kNN")
    out = recent_sessions(_sessions(warehouse, config))
    out["last_seen"] = pd.to_datetime(out["last_seen"], unit="s").astype("datetime64[s]")
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_sessions", "sessions", out, version)
    progress(f"sessions: {written:,} sessions written (model_version {version})")
    return {"sessions": written, "model_version": version}


def run_person(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
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
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_person_items", "person", out, version)
    progress(f"person: {written:,} recommendations for {out['person_id'].nunique():,} people (model_version {version})")
    return {"items": written, "model_version": version}


def run_context_popularity(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    progress("popularity: overall, per category and trending")
    events = rec_store.interactions(warehouse)
    categories = rec_store.current_products(warehouse).rename(columns={"product_id": "item_id"})
    # Served to every visitor: only products of the catalogue, each seen by enough distinct visitors.
    out = context_popularity(
        events, categories, now=time.time(), min_visitors=int(config["REC_MIN_VISITORS"]), products=categories
    )
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_popularity", "popularity", out, version)
    progress(f"popularity: {written:,} items over {out['context'].nunique() if len(out) else 0} contexts")
    return {"items": written, "model_version": version}


def run_sequential(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    """Sequential rules ("followed by") over each site's visits, for the served session ranking."""
    from .sequential import sequential_rules

    progress("sequential: reading sessions")
    events = _sessions(warehouse, config)
    clicks = events[events["kind"].isin(["view", "cart"])]
    frames = []
    for site_id, group in clicks.groupby("site_id"):
        progress(f"sequential: {site_id}: {group['session_id'].nunique():,} sessions")
        frames.append(sequential_rules(group[["session_id", "item_id", "time"]]).assign(site_id=site_id))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["site_id", "item_id", "score"])
    out = out.assign(relation="followed_by", support=0.0, lift=0.0)
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_item_neighbors", "sequential", out, version)
    progress(f"sequential: {written:,} rules written (model_version {version})")
    return {"rules": written, "model_version": version}
