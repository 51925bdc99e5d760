"""Recommendation jobs: each reads interactions, calls the pure mining functions, writes a new model version.

Every job takes ``(warehouse, config, progress)``; ``mining.jobs`` lists them
with the other jobs and their intervals.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import pandas as pd

from core.versions import new_version, refolds_in_full
from warehouse.queries import basket_counts as basket_store
from warehouse.queries import late_rows, sites
from warehouse.queries import mining as mining_store
from warehouse.queries import recommendations as rec_store
from warehouse.queries import sessions as session_store
from warehouse.queries import visit_items as visit_store
from warehouse.queries import visitor_votes as vote_store

from .mining import catalog_changes, known_products, popularity_from_votes
from .rules import frequent_items, min_pair_count, pair_rules, top_rules

Progress = Callable[[str], None]

# Events a query of a part reads at most (about): the parts' count grows with
# the site, so each query's memory stays the same whatever the events. People's
# candidate lists outnumber events: their parts are smaller. Co-occurrence
# scores at most PART_PAIRS stored pair weights a query.
PART_EVENTS = 1_000_000
PART_PAIRS = 1_500_000
PERSON_PARTS = 4
# Products the rules are made between at most (the most frequent), and those whose pairs the basket
# counts keep: twice as many, so that a product rising among the first is already counted.
RULE_ITEMS = 1000
COUNTED_ITEMS = 2 * RULE_ITEMS
# Events of the site a part of a full basket count covers (about): baskets are few beside events.
BASKET_PART_EVENTS = 5_000_000


def _parts(warehouse, site_id: str) -> int:
    return max(1, math.ceil(mining_store.site_event_count(warehouse, site_id) / PART_EVENTS))


def _site_ids(warehouse, config: dict) -> list[str]:
    return [site["site_id"] for site in sites.list_sites(warehouse, config.get("sites"))]


def run_popularity(warehouse, config: dict, progress: Progress = print) -> dict:
    contexts = run_context_popularity(warehouse, config, progress)
    return {"items": contexts["items"], "model_version": contexts["model_version"], "contexts": contexts["items"]}


def session_items(warehouse, site_id: str, config: dict, progress: Progress = print) -> int | None:
    """Bring the site's folded visits up to date and return their generation (None: no visits yet).

    Co-occurrence, the session index and the rules all read them. The first
    run, and a run with ``full`` set (``basirat jobs run --full`` sets it to
    the time the run began, in ns), folds every visitor in parts under a new
    generation; later runs refold only the visitors with events the sessions
    job has seen since. Older generations are deleted by the daily retention job.
    """
    upto = session_store.high_water(warehouse, site_id, "sessions")
    if upto is None:
        return None
    found = visit_store.mark(warehouse, site_id)
    full = refolds_in_full(config, found)
    if found and not full and found["high_water"] >= upto:
        return found["generation"]
    mark, late = found and found["high_water"], int(config["LATE_EVENTS_MINUTES"])
    since, print_ = late_rows.window(warehouse, site_id, "visit_items", mark, upto, late, after="sessions")
    if found and not full:
        progress(f"visits: {site_id}: refolding visitors with events since {since:%Y-%m-%d %H:%M}")
        visit_store.fold_touched(warehouse, site_id, found["generation"], since, upto, new_version())
        visit_store.set_mark(warehouse, site_id, found["generation"], upto, new_version())
        late_rows.keep(warehouse, site_id, "visit_items", upto, print_)
        return found["generation"]
    parts, generation = _parts(warehouse, site_id), new_version()
    progress(f"visits: {site_id}: copying interactions by visitor")
    with mining_store.copied(warehouse, site_id, new_version(), "visitor") as run:
        for part in range(parts):
            progress(f"visits: {site_id}: folding products of visits, part {part + 1}/{parts}")
            visit_store.fold_part(warehouse, site_id, generation, run, part, parts)
    progress(f"visits: {site_id}: summing co-occurrence weights")
    # Each statement reads every visit and holds the pairs of its share of the items.
    visit_store.fold_weights(warehouse, site_id, generation, item_parts=max(4, parts // 2))
    visit_store.set_mark(warehouse, site_id, generation, upto, new_version())
    late_rows.keep(warehouse, site_id, "visit_items", upto, print_)
    return generation


def run_catalog(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    progress("catalog: reading products seen in events")
    changes = catalog_changes(rec_store.tracked_products(warehouse), rec_store.current_products(warehouse))
    written = rec_store.write_products(warehouse, changes) if len(changes) else 0
    progress(f"catalog: {written} products new or changed")
    return {"products": written}


def run_rules(warehouse, config: dict, progress: Progress = print) -> dict:
    """Two-item rules over every site's baskets (a visit's carted or bought products), from their counts.

    The counts are kept in the warehouse (``basket_counts``); rules are made
    between the ``RULE_ITEMS`` products in most baskets, each in at least
    ``min_pair_count`` of them, from the pairs in as many.
    """
    progress("rules: counting orders and carts")
    frames = []
    for site_id in _site_ids(warehouse, config):
        generation = basket_counts(warehouse, site_id, config, progress)
        if generation is None:
            continue
        count, items = basket_store.item_counts(warehouse, site_id, generation)
        min_count = min_pair_count(count)
        frequent = frequent_items(items, min_count, RULE_ITEMS)
        if not set(frequent) <= set(basket_store.counted_items(warehouse, site_id, generation)):
            progress(f"rules: {site_id}: products whose pairs were not counted are now among the most frequent")
            generation = basket_counts(warehouse, site_id, config, progress, recount=True)
        pairs = basket_store.pair_counts(warehouse, site_id, generation, frequent, min_count)
        progress(f"rules: {site_id}: {len(pairs):,} pairs of {len(frequent):,} products in >= {min_count} of {count:,}")
        rules = top_rules(pair_rules(items, pairs, count, min_count=min_count, min_confidence=0.01))
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


def basket_counts(
    warehouse, site_id: str, config: dict, progress: Progress = print, recount: bool = False
) -> int | None:
    """Bring the site's basket counts up to date with its folded visits; their generation (None: no visits yet).

    The first run, a ``--full`` one, one after the visits were folded anew,
    and ``recount`` count every basket under a new generation, whose counted
    pairs are those of the ``COUNTED_ITEMS`` products in most baskets then.
    Later runs count again only the baskets of the visitors refolded since
    the last run, which gives the same sums. Older generations are deleted by
    the daily retention job.
    """
    visits = session_items(warehouse, site_id, config, progress)
    if visits is None:
        return None
    found = visit_store.mark(warehouse, site_id, job="rules")
    full = refolds_in_full(config, found)
    high_water = visit_store.mark(warehouse, site_id)["high_water"]
    version = new_version()
    # A generation newer than the visits' counts those visits; a newer visits generation needs a new count.
    if found and found["generation"] > visits and not (full or recount):
        progress(f"rules: {site_id}: counting again the baskets of visitors refolded since the last run")
        counted = basket_store.counted_items(warehouse, site_id, found["generation"])
        basket_store.count_changed(warehouse, site_id, visits, found["generation"], counted, found["version"], version)
        visit_store.set_mark(warehouse, site_id, found["generation"], high_water, version, job="rules")
        return found["generation"]
    parts = max(1, math.ceil(mining_store.site_event_count(warehouse, site_id) / BASKET_PART_EVENTS))
    for part in range(parts):
        progress(f"rules: {site_id}: counting baskets, part {part + 1}/{parts}")
        basket_store.count_part(warehouse, site_id, visits, version, part, parts)
    counted = basket_store.item_counts(warehouse, site_id, version)[1]["item_id"].head(COUNTED_ITEMS).tolist()
    basket_store.set_counted_items(warehouse, site_id, version, counted)
    for part in range(parts):
        progress(f"rules: {site_id}: counting pairs, part {part + 1}/{parts}")
        basket_store.count_pairs(warehouse, site_id, version, counted, part, parts)
    visit_store.set_mark(warehouse, site_id, version, high_water, version, job="rules")
    return version


def run_cooccurrence(warehouse, config: dict, progress: Progress = print) -> dict:
    progress("cooccurrence: reading visits")
    frames = []
    for site_id in _site_ids(warehouse, config):
        folded = session_items(warehouse, site_id, config, progress)
        if folded is None:
            continue
        # A part's memory follows its pairs: parts by the stored pairs' rows.
        ranges = visit_store.pair_ranges(warehouse, site_id, folded, PART_PAIRS)
        for part, items in enumerate(ranges):
            progress(f"cooccurrence: {site_id}: pairs, part {part + 1}/{len(ranges)}")
            found = visit_store.cooccurrence_neighbors(warehouse, site_id, folded, items)
            frames.append(found.assign(site_id=site_id))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["site_id", "score"])
    out = out.assign(support=0.0, lift=0.0)
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_item_neighbors", "cooccurrence", out, version)
    progress(f"cooccurrence: {written:,} neighbours written (model_version {version})")
    return {"neighbors": written, "model_version": version}


def run_session_index(warehouse, config: dict, progress: Progress = print) -> dict:
    progress("sessions: indexing recent sessions for session-kNN")
    frames = []
    for site_id in _site_ids(warehouse, config):
        folded = session_items(warehouse, site_id, config, progress)
        if folded is not None:
            frames.append(visit_store.indexed_sessions(warehouse, site_id, folded).assign(site_id=site_id))
    columns = ["site_id", "session_id", "item_ids", "last_seen"]
    out = pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    out["last_seen"] = pd.to_datetime(out["last_seen"], utc=True).dt.tz_localize(None).astype("datetime64[s]")
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_sessions", "sessions", out, version)
    progress(f"sessions: {written:,} sessions written (model_version {version})")
    return {"sessions": written, "model_version": version}


def run_person(warehouse, config: dict, progress: Progress = print) -> dict:
    """Per-person recommendations; after the first run, only the people whose history or identity changed.

    A later run writes only those people (and a marker for anyone left
    without a list); everyone else keeps the list of an earlier run, read
    decayed to now (``versions.person_model``), which is what a full run
    from the same neighbours gives. Those lists were ranked against the
    neighbour models of their day, so every ``PERSON_FULL_HOURS`` (and with
    ``--full``) every person is recomputed against the current ones.
    """
    progress("person: reading histories and identities")
    latest = rec_store.latest_versions(warehouse)
    version, people, rows = new_version(), 0, {}
    now = version / 1e9
    for site_id in _site_ids(warehouse, config):
        versions = {model: v for (site, model), v in latest.items() if site == site_id}
        if not ({"rules", "cooccurrence"} & set(versions)):
            continue
        upto = mining_store.received_upto(warehouse, site_id)
        found = visit_store.mark(warehouse, site_id, job="person")
        last_full = found["generation"] if found else 0
        mark, late = found and found["high_water"], int(config["LATE_EVENTS_MINUTES"])
        since, print_ = (mark, 0) if upto is None else late_rows.window(warehouse, site_id, "person", mark, upto, late)
        if _person_incremental(config, found, versions.get("person"), version):
            changed = {"since": since, "upto": upto, "last": found["version"]}
            progress(f"person: {site_id}: people with events or identities since {since:%Y-%m-%d %H:%M}")
            full_since = last_full
            written, recomputed = _person_parts(warehouse, site_id, now, 1, versions, version, progress, changed)
        else:
            changed, full_since = None, version
            # Each voting product brings up to 20 neighbours: people come in smaller parts.
            parts = PERSON_PARTS * _parts(warehouse, site_id)
            progress(f"person: {site_id}: copying interactions by person")
            with mining_store.copied(warehouse, site_id, new_version(), "person") as run:
                written, recomputed = _person_parts(
                    warehouse, site_id, now, parts, versions, version, progress, run=run
                )
        people += recomputed
        mining_store.mark_emptied_people(warehouse, site_id, version, last_full=last_full, changed=changed)
        rows[site_id] = written
        if changed is not None:
            # The model's size: the previous one's, with the recomputed people's lists replaced.
            before = rec_store.recorded_rows(warehouse, site_id, "person", found["version"])
            replaced = mining_store.person_model_rows(warehouse, site_id, found["version"], people_of=version)
            rows[site_id] = max(before - replaced, 0) + written
        if upto is not None:
            visit_store.set_mark(warehouse, site_id, full_since, upto, version, job="person")
            late_rows.keep(warehouse, site_id, "person", upto, print_)
    for site_id, count in rows.items():
        rec_store.record_version(warehouse, site_id, "person", version, count)
    written = sum(rows.values())
    progress(f"person: {written:,} recommendations, {people:,} people recomputed (model_version {version})")
    return {"items": written, "model_version": version}


def _person_parts(warehouse, site_id, now, parts, versions, version, progress, changed=None, run=0) -> tuple[int, int]:
    """Write the lists of each part of the people under ``version``; the rows and people written."""
    written = people = 0
    for part in range(parts):
        progress(f"person: {site_id}: histories, part {part + 1}/{parts}")
        out = mining_store.person_recommendations(
            warehouse, site_id, now, part, parts, versions, changed=changed, run=run
        )
        warehouse.release_memory()
        out.insert(0, "site_id", site_id)
        written += rec_store.insert_model_rows(warehouse, "rec_person_items", out, version)
        people += out["person_id"].nunique()
    return written, people


# How long people without new events keep lists ranked against older neighbour models.
PERSON_FULL_HOURS = 24


def _person_incremental(config: dict, found: dict | None, latest: int | None, version: int) -> bool:
    """Whether the previous per-person model can be carried forward: it is the newest, and recent enough."""
    if config.get("full") or found is None or latest is None or found["version"] != latest:
        return False
    return version - found["generation"] < PERSON_FULL_HOURS * 3600 * 10**9


def run_context_popularity(warehouse, config: dict, progress: Progress = print) -> dict:
    progress("popularity: overall, per category and trending")
    now = time.time()
    recent_cut = now - 3 * 86400
    catalogue = rec_store.current_products(warehouse).rename(columns={"product_id": "item_id"})
    frames = []
    for site_id in _site_ids(warehouse, config):
        folded = visitor_votes(warehouse, site_id, config, progress)
        if folded is None:
            continue
        votes = vote_store.popularity_votes(warehouse, site_id, folded, now, recent_cut)
        # Served to every visitor: only products of the catalogue, each seen by enough distinct visitors.
        votes = known_products(votes.assign(site_id=site_id), catalogue)
        frames.append(popularity_from_votes(votes, catalogue, recent_cut, min_visitors=int(config["REC_MIN_VISITORS"])))
    columns = ["site_id", "context", "item_id", "score"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_popularity", "popularity", out, version)
    progress(f"popularity: {written:,} items over {out['context'].nunique() if len(out) else 0} contexts")
    return {"items": written, "model_version": version}


def visitor_votes(warehouse, site_id: str, config: dict, progress: Progress = print) -> int | None:
    """Bring the site's folded votes (``rec_visitor_votes``) up to date; their generation (None: no events).

    As ``session_items``: the first run, and a ``--full`` one, fold every
    visitor in parts under a new generation; later runs refold the visitors
    with events received since (and those whose oldest interaction has left
    the window), which gives the same rows.
    """
    upto = mining_store.received_upto(warehouse, site_id)
    if upto is None:
        return None
    found = visit_store.mark(warehouse, site_id, job="popularity")
    full = refolds_in_full(config, found)
    late = int(config["LATE_EVENTS_MINUTES"])
    since, print_ = late_rows.window(warehouse, site_id, "popularity", found and found["high_water"], upto, late)
    if found and not full:
        progress(f"popularity: {site_id}: refolding visitors with events since {since:%Y-%m-%d %H:%M}")
        vote_store.fold_changed(warehouse, site_id, found["generation"], since, upto, new_version())
        visit_store.set_mark(warehouse, site_id, found["generation"], upto, new_version(), job="popularity")
        late_rows.keep(warehouse, site_id, "popularity", upto, print_)
        return found["generation"]
    parts, generation = _parts(warehouse, site_id), new_version()
    progress(f"popularity: {site_id}: copying interactions by visitor")
    with mining_store.copied(warehouse, site_id, new_version(), "visitor") as run:
        for part in range(parts):
            progress(f"popularity: {site_id}: folding visitors' votes, part {part + 1}/{parts}")
            vote_store.fold_part(warehouse, site_id, generation, run, part, parts)
    visit_store.set_mark(warehouse, site_id, generation, upto, new_version(), job="popularity")
    late_rows.keep(warehouse, site_id, "popularity", upto, print_)
    return generation


def run_sequential(warehouse, config: dict, progress: Callable[[str], None] = print) -> dict:
    """Sequential rules ("followed by") over each site's latest visits, for the served session ranking.

    Read from the folded visits (``rec_session_items``: each visit's views and
    cart adds in time order), the same bounded set the session index reads.
    """
    from .sequential import sequential_rules

    progress("sequential: reading visits")
    frames = []
    for site_id in _site_ids(warehouse, config):
        folded = session_items(warehouse, site_id, config, progress)
        if folded is None:
            continue
        visits = visit_store.indexed_sessions(warehouse, site_id, folded)
        if visits.empty:
            continue
        clicks = visits[["session_id", "item_ids"]].explode("item_ids").rename(columns={"item_ids": "item_id"})
        clicks["time"] = clicks.groupby("session_id").cumcount()
        progress(f"sequential: {site_id}: {len(visits):,} sessions")
        frames.append(sequential_rules(clicks[["session_id", "item_id", "time"]]).assign(site_id=site_id))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["site_id", "item_id", "score"])
    out = out.assign(relation="followed_by", support=0.0, lift=0.0)
    version = new_version()
    written = rec_store.write_model(warehouse, "rec_item_neighbors", "sequential", out, version)
    progress(f"sequential: {written:,} rules written (model_version {version})")
    return {"rules": written, "model_version": version}
