"""The warehouse's aggregations give the models the pure pandas functions give, part by part.

A small store with several visits per visitor (gaps longer than the visit
timeout) is mined both ways: the jobs' SQL, cut into parts, and the pandas
functions over every interaction, cut into visits by ``sessionize`` with the
same timeout. The product's sessions job cuts the visits the SQL reads.
"""

from __future__ import annotations

import datetime as dt
import random
import time

import pandas as pd
import pytest

from mining import sessions as sessions_job
from mining.jobs import run_identity
from recommender import jobs as rec_jobs
from recommender.cooccurrence import cooccurrence
from recommender.jobs import basket_counts, run_person, run_rules, session_items, visitor_votes
from recommender.mining import (
    baskets,
    context_popularity,
    person_items,
    person_items_from_votes,
    popularity_from_votes,
    recent_sessions,
    sessionize,
    with_person,
)
from recommender.rules import basket_rules, pair_rules
from tests.mining.test_retention import merges_stopped
from tests.support.factories import recent
from warehouse.queries import basket_counts as basket_store
from warehouse.queries import erasure, events, mining_rows, visit_items
from warehouse.queries import mining as store
from warehouse.queries import recommendations as rec_store
from warehouse.queries import visitor_votes as vote_store

TIMEOUT = 30
ITEMS = [f"p{i:02d}" for i in range(12)]


def _store_rows(site_id: str) -> list[dict]:
    """40 visitors, 1-3 visits each two hours apart; views a minute apart, some cart adds and orders."""
    rng = random.Random(7)
    rows = []
    for n in range(40):
        visitor = f"v{n}"
        for k in range(rng.randint(1, 3)):
            start = 3000 - n * 7 - k * 120  # minutes ago, visits 2 h apart
            viewed = rng.sample(ITEMS, rng.randint(2, 6))
            for i, item in enumerate(viewed):
                rows.append(recent(site_id, visitor, "Product Viewed", start - i, product_id=item))
            carted = viewed[: rng.randint(0, 2)]
            for i, item in enumerate(carted):
                rows.append(recent(site_id, visitor, "Product Added", start - 10 - i * 0.5, product_id=item))
            if carted and rng.random() < 0.6:
                rows.append(
                    recent(site_id, visitor, "Order Completed", start - 15, order_id=f"o{n}-{k}", item_ids=list(carted))
                )
    return rows


@pytest.fixture
def store_site(warehouse, site):
    events.insert_events(warehouse, _store_rows(site["site_id"]))
    sessions_job.sessionize_site(warehouse, site["site_id"], timeout_minutes=TIMEOUT)
    return warehouse, site["site_id"]


def _pandas_sessions(warehouse, site_id: str) -> pd.DataFrame:
    found = rec_store.interactions(warehouse)
    return sessionize(found[found["site_id"] == site_id], TIMEOUT)


def _folded(warehouse, site_id: str, parts: int) -> int:
    generation = time.time_ns()
    with store.copied(warehouse, site_id, generation, "visitor") as run:
        for part in range(parts):
            visit_items.fold_part(warehouse, site_id, generation, run, part, parts)
    visit_items.fold_weights(warehouse, site_id, generation, item_parts=2)
    return generation


def _neighbors(warehouse, site_id: str, generation: int) -> pd.DataFrame:
    ranges = visit_items.pair_ranges(warehouse, site_id, generation, rows_per_part=5)
    assert len(ranges) > 2  # the items come in several ranges, each scored alone
    return pd.concat(
        [visit_items.cooccurrence_neighbors(warehouse, site_id, generation, items) for items in ranges],
        ignore_index=True,
    )


def test_cooccurrence_in_parts_matches_pandas(store_site):
    warehouse, site_id = store_site
    now = time.time()
    got = _neighbors(warehouse, site_id, _folded(warehouse, site_id, parts=3))
    events_ = _pandas_sessions(warehouse, site_id)
    expected = cooccurrence(events_.assign(kind=events_["kind"].replace({"cart": "view"})), now=now)
    keys = ["relation", "item_id", "neighbor_id"]
    both = expected.merge(got, on=keys, how="outer", suffixes=("_pandas", "_sql"), indicator=True)
    assert set(both["relation"]) == {"also_viewed", "bought_after_view"}
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"]
    assert both["score_sql"].to_numpy() == pytest.approx(both["score_pandas"].to_numpy(), rel=1e-6)


def test_a_full_fold_stores_each_pair_once(store_site, request):
    """The runs after a rebuild read one row per pair, not one per part of the visitors that saw it."""
    warehouse, site_id = store_site
    with merges_stopped(warehouse, request, "rec_pair_weights"):
        generation = _folded(warehouse, site_id, parts=3)
        [row] = warehouse.query(
            """
            SELECT count() AS stored, uniqExact(relation, item_id, neighbor_id) AS pairs FROM rec_pair_weights
            WHERE site_id = {site_id:String} AND generation = {generation:UInt64}
            """,
            {"site_id": site_id, "generation": generation},
        )
    assert row["stored"] == row["pairs"] > 100


def test_session_index_matches_pandas(store_site):
    warehouse, site_id = store_site
    version = _folded(warehouse, site_id, parts=2)
    sessions = _pandas_sessions(warehouse, site_id)
    expected = recent_sessions(sessions)
    got = visit_items.indexed_sessions(warehouse, site_id, version)
    assert len(got) == len(expected) > 20
    assert sorted(map(sorted, got["item_ids"])) == sorted(map(sorted, expected["item_ids"]))


def _two_or_more(found: pd.DataFrame) -> pd.DataFrame:
    return found[found.groupby("basket_id")["item_id"].transform("size") >= 2]


def test_basket_counts_match_pandas(store_site):
    """Baskets of two products or more, each product's and each pair's, counted in parts: the rules of pandas."""
    warehouse, site_id = store_site
    generation = basket_counts(warehouse, site_id, {"LATE_EVENTS_MINUTES": 60}, lambda _m: None)
    expected = _two_or_more(baskets(_pandas_sessions(warehouse, site_id)))
    count, items = basket_store.item_counts(warehouse, site_id, generation)
    assert count == expected["basket_id"].nunique() > 10
    assert items.set_index("item_id")["baskets"].to_dict() == expected["item_id"].value_counts().to_dict()
    pairs = basket_store.pair_counts(warehouse, site_id, generation, ITEMS, min_count=2)
    got = pair_rules(items, pairs, count, min_count=2, min_confidence=0.0)
    assert len(got) > 10
    pd.testing.assert_frame_equal(got, basket_rules(expected, min_count=2, min_confidence=0.0))


def _rules(warehouse, site_id: str, version: int) -> pd.DataFrame:
    return warehouse.query_df(
        "SELECT item_id, neighbor_id, score, support, lift FROM rec_item_neighbors "
        "WHERE site_id = {site_id:String} AND relation = 'bought_together' AND model_version = {version:UInt64} "
        "ORDER BY item_id, neighbor_id",
        {"site_id": site_id, "version": version},
    )


def _incremental_and_full_rules(warehouse, site_id: str, rows: list[dict], said: list) -> tuple:
    config = {"LATE_EVENTS_MINUTES": 60, "sites": [site_id], "full": 0}
    run_rules(warehouse, config, said.append)
    events.insert_events(warehouse, rows)
    sessions_job.sessionize_site(warehouse, site_id, timeout_minutes=TIMEOUT)
    incremental = run_rules(warehouse, config, said.append)["model_version"]
    full = run_rules(warehouse, {**config, "full": time.time_ns()}, said.append)["model_version"]
    return _rules(warehouse, site_id, incremental), _rules(warehouse, site_id, full)


def test_an_incremental_rules_run_gives_what_a_full_run_gives(store_site):
    """A new visitor's order, a known visitor's new visit, a late cart add in an old visit and visits
    joined by late events: counting again only their baskets gives the rules a full run gives."""
    warehouse, site_id = store_site
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    rows = [recent(site_id, "new", "Product Added", 5 - i, product_id=item) for i, item in enumerate(ITEMS[:3])]
    rows.append(recent(site_id, "new", "Order Completed", 1, order_id="o-new", item_ids=ITEMS[:3]))
    rows += [recent(site_id, "v0", "Product Added", 3 - i, product_id=item) for i, item in enumerate(ITEMS[9:])]
    late = recent(site_id, "v5", "Product Added", 3000 - 5 * 7 - 1.5, product_id="p10")
    rows.append({**late, "received_at": now})
    rows += _bridging(site_id, now, range(20, 40))
    said = []
    incremental, full = _incremental_and_full_rules(warehouse, site_id, rows, said)
    assert any("counting again the baskets" in line for line in said)
    assert len(full) > 10
    pd.testing.assert_frame_equal(incremental, full)


def test_a_product_rising_among_the_most_frequent_has_its_pairs_counted_anew(store_site, monkeypatch):
    """Rules between 3 products, pairs counted for 4: products outside those becoming the most frequent
    start a new count, and the rules are still those of a full run."""
    warehouse, site_id = store_site
    monkeypatch.setattr(rec_jobs, "RULE_ITEMS", 3)
    monkeypatch.setattr(rec_jobs, "COUNTED_ITEMS", 4)
    found = baskets(_pandas_sessions(warehouse, site_id))
    rare = _two_or_more(found)["item_id"].value_counts().sort_values(kind="stable").index[:2].tolist()
    rows = []
    for n in range(30):
        rows += [recent(site_id, f"fan{n}", "Product Added", 5 - i, product_id=item) for i, item in enumerate(rare)]
    said = []
    incremental, full = _incremental_and_full_rules(warehouse, site_id, rows, said)
    assert any("were not counted" in line for line in said)
    assert set(rare) <= set(full["item_id"])
    pd.testing.assert_frame_equal(incremental, full)


def test_a_site_without_baskets_has_no_rules(warehouse, site):
    """Views only: the counts hold no product, and the runs after the first have nothing to count again."""
    site_id = site["site_id"]
    events.insert_events(
        warehouse, [recent(site_id, "v", "Product Viewed", 20 - i, product_id=p) for i, p in enumerate(ITEMS)]
    )
    sessions_job.sessionize_site(warehouse, site_id, timeout_minutes=TIMEOUT)
    config = {"LATE_EVENTS_MINUTES": 60, "sites": [site_id], "full": 0}
    assert run_rules(warehouse, config, lambda _m: None)["rules"] == 0
    events.insert_events(warehouse, [recent(site_id, "w", "Product Viewed", 1, product_id="p01")])
    sessions_job.sessionize_site(warehouse, site_id, timeout_minutes=TIMEOUT)
    assert run_rules(warehouse, config, lambda _m: None)["rules"] == 0


def test_a_site_with_nothing_recent_has_popular_items_and_no_trending():
    votes = pd.DataFrame(
        {"site_id": pd.Series(["s1"], dtype="str"), "item_id": pd.Series(["lamp"], dtype="str"), "overall": [3.0],
         "visitors": [3], "recent": [0.0], "recent_visitors": [0], "older": [3.0], "older_start": [1.0e9]}
    )  # fmt: skip
    categories = pd.DataFrame({"site_id": ["s1"], "item_id": ["lamp"], "category": [""]})
    got = popularity_from_votes(votes, categories, recent_cut=1.1e9, min_visitors=1)
    assert got[["context", "item_id", "score"]].values.tolist() == [["overall", "lamp", 3.0]]


def _folded_votes(warehouse, site_id: str, parts: int, days: int = 180) -> int:
    generation = time.time_ns()
    with store.copied(warehouse, site_id, generation, "visitor", days=days) as run:
        for part in range(parts):
            vote_store.fold_part(warehouse, site_id, generation, run, part, parts)
    return generation


def test_popularity_votes_in_parts_match_pandas(store_site):
    warehouse, site_id = store_site
    now, cut = time.time(), time.time() - 2 * 86400
    votes = vote_store.popularity_votes(warehouse, site_id, _folded_votes(warehouse, site_id, 3), now, cut)
    categories = pd.DataFrame({"site_id": [site_id], "item_id": ["p01"], "category": ["Toys"]})
    got = popularity_from_votes(votes.assign(site_id=site_id), categories, cut, trending_days=2, min_visitors=2)
    found = rec_store.interactions(warehouse)
    expected = context_popularity(found[found["site_id"] == site_id], categories, now, 2, min_visitors=2)
    assert set(got["context"]) == {"overall", "trending", "category:Toys"}
    keys = ["context", "item_id"]
    both = expected.merge(got, on=keys, how="outer", indicator=True)
    assert (both["_merge"] == "both").all()
    assert both["score_y"].to_numpy() == pytest.approx(both["score_x"].to_numpy(), rel=1e-6)


def test_person_votes_in_parts_match_pandas(store_site):
    warehouse, site_id = store_site
    now = time.time()
    neighbors = pd.DataFrame(
        {
            "site_id": site_id,
            "item_id": ITEMS,
            "neighbor_id": ITEMS[1:] + ITEMS[:1],
            "score": [1.0 + i / 10 for i in range(len(ITEMS))],
        }
    )
    with store.copied(warehouse, site_id, time.time_ns(), "person") as run:
        votes = pd.concat(
            [store.person_votes(warehouse, site_id, now, run, part, 2, max_history=3) for part in range(2)],
            ignore_index=True,
        )
    got = person_items_from_votes(votes.assign(site_id=site_id), neighbors)
    found = rec_store.interactions(warehouse)
    history = with_person(found[found["site_id"] == site_id], rec_store.person_links(warehouse))
    expected = person_items(history, neighbors, now=now, max_history=3)
    keys = ["person_id", "item_id"]
    both = expected.merge(got, on=keys, how="outer", indicator=True)
    assert len(got) > 20
    assert (both["_merge"] == "both").all()
    assert both["score_y"].to_numpy() == pytest.approx(both["score_x"].to_numpy(), rel=1e-6)


def test_person_recommendations_in_parts_match_pandas(store_site):
    warehouse, site_id = store_site
    now = time.time()
    neighbors = pd.DataFrame(
        {
            "site_id": site_id,
            "relation": "also_viewed",
            "item_id": ITEMS * 2,
            "neighbor_id": ITEMS[1:] + ITEMS[:1] + ITEMS[3:] + ITEMS[:3],
            "score": [1.0 + i / 10 for i in range(2 * len(ITEMS))],
            "support": 0.0,
            "lift": 0.0,
        }
    )
    rec_store.write_model(warehouse, "rec_item_neighbors", "cooccurrence", neighbors, version=77)
    with store.copied(warehouse, site_id, time.time_ns(), "person") as run:
        got = pd.concat(
            [
                store.person_recommendations(
                    warehouse, site_id, now, part, 3, {"cooccurrence": 77}, per_item=1, run=run
                )
                for part in range(3)
            ],
            ignore_index=True,
        )
    found = rec_store.interactions(warehouse)
    history = with_person(found[found["site_id"] == site_id], rec_store.person_links(warehouse))
    expected = person_items(history, neighbors, now=now, per_item=1)
    both = expected.merge(got, on=["person_id", "item_id"], how="outer", indicator=True)
    assert len(got) > 20
    assert (both["_merge"] == "both").all()
    assert both["score_y"].to_numpy() == pytest.approx(both["score_x"].to_numpy(), rel=1e-6)


def _bridging(site_id: str, now: dt.datetime, visitors: range) -> list[dict]:
    """Late views every 20 minutes between each visitor's first and second visit (2 h apart), received now:
    the two become one visit, and the visitor's last visit number is gone."""
    return [
        {**recent(site_id, f"v{n}", "Product Viewed", 3000 - n * 7 - minutes, product_id="p00"), "received_at": now}
        for n in visitors
        for minutes in range(20, 120, 20)
    ]


def test_an_incremental_fold_gives_what_a_full_fold_gives(store_site):
    """New visitors, a visit extended, a late event in an old visit and two visits joined by late events:
    refolding only them is exact (the visit numbers gone leave only their tombstones)."""
    warehouse, site_id = store_site
    settings = {"LATE_EVENTS_MINUTES": 60}
    generation = session_items(warehouse, site_id, settings, lambda _m: None)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    rows = [recent(site_id, "new", "Product Viewed", 5 - i, product_id=item) for i, item in enumerate(ITEMS[:4])]
    rows += [recent(site_id, "v0", "Product Viewed", 3, product_id="p11")]
    late = recent(site_id, "v5", "Product Viewed", 3000 - 5 * 7 - 1.5, product_id="p10")
    rows.append({**late, "received_at": now})
    rows += _bridging(site_id, now, range(10, 20))
    events.insert_events(warehouse, rows)
    sessions_job.sessionize_site(warehouse, site_id, timeout_minutes=TIMEOUT)
    assert session_items(warehouse, site_id, settings, lambda _m: None) == generation
    incremental = _neighbors(warehouse, site_id, generation)
    indexed = visit_items.indexed_sessions(warehouse, site_id, generation)
    rebuilt = session_items(warehouse, site_id, {**settings, "full": time.time_ns()}, lambda _m: None)
    assert rebuilt != generation
    full = _neighbors(warehouse, site_id, rebuilt)
    keys = ["relation", "item_id", "neighbor_id"]
    both = full.merge(incremental, on=keys, how="outer", indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"]
    assert both["score_y"].to_numpy() == pytest.approx(both["score_x"].to_numpy(), rel=1e-9)
    assert ("also_viewed", "p00", "p03") in set(map(tuple, full[keys].to_numpy()))
    expected = visit_items.indexed_sessions(warehouse, site_id, rebuilt)
    assert sorted(map(tuple, indexed["item_ids"])) == sorted(map(tuple, expected["item_ids"]))


def test_an_incremental_person_run_gives_what_a_full_run_gives(store_site):
    """New visitors, new events of a known one and a login that joins two devices: recomputing only
    those people, and carrying the rest forward decayed to now, is exact for the same neighbours."""
    warehouse, site_id = store_site
    neighbors = pd.DataFrame(
        {
            "site_id": site_id,
            "relation": "also_viewed",
            "item_id": ITEMS * 2,
            "neighbor_id": ITEMS[1:] + ITEMS[:1] + ITEMS[3:] + ITEMS[:3],
            "score": [1.0 + i / 10 for i in range(2 * len(ITEMS))],
            "support": 0.0,
            "lift": 0.0,
        }
    )
    rec_store.write_model(warehouse, "rec_item_neighbors", "cooccurrence", neighbors, version=time.time_ns())
    config = {"LATE_EVENTS_MINUTES": 60, "IDENTITY_MAX_IDS": 50, "sites": [site_id], "full": 0}
    said = []
    first = run_person(warehouse, config, said.append)["model_version"]
    rows = [recent(site_id, "new", "Product Viewed", 5 - i, product_id=item) for i, item in enumerate(ITEMS[:4])]
    rows += [recent(site_id, "v0", "Product Viewed", 3, product_id="p11")]
    rows += [recent(site_id, v, "Product Viewed", 2, product_id="p07", user_id="u-34") for v in ("v3", "v4")]
    events.insert_events(warehouse, rows)
    run_identity(warehouse, config, said.append)
    incremental = run_person(warehouse, config, said.append)["model_version"]
    assert any("people with events or identities since" in line for line in said)
    full = run_person(warehouse, {**config, "full": time.time_ns()}, said.append)["model_version"]
    keys = ["person_id", "item_id"]
    got, expected, before = (
        rec_store.load_model(warehouse, "rec_person_items", site_id, v) for v in (incremental, full, first)
    )
    assert set(got["person_id"]) > {"new", "v0", "v1"} and "v3" in set(before["person_id"])
    assert not {"v3", "v4"} & set(expected["person_id"])
    both = expected.merge(got, on=keys, how="outer", indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"]
    decay = 0.5 ** ((full - incremental) / 1e9 / 86400 / 30)
    assert (both["score_y"] * decay).to_numpy() == pytest.approx(both["score_x"].to_numpy(), rel=1e-9)


def test_a_person_run_writes_only_who_changed_and_pruning_keeps_the_lists_still_read(store_site):
    """An incremental run's version holds only the people it recomputed; the model read at it is still
    everyone's, its recorded size is the model's, and pruning to one version keeps the full run it
    builds on until the next full run."""
    warehouse, site_id = store_site
    neighbors = pd.DataFrame(
        {"site_id": site_id, "relation": "also_viewed", "item_id": ITEMS, "neighbor_id": ITEMS[1:] + ITEMS[:1],
         "score": 1.0, "support": 0.0, "lift": 0.0}
    )  # fmt: skip
    rec_store.write_model(warehouse, "rec_item_neighbors", "cooccurrence", neighbors, version=time.time_ns())
    config = {"LATE_EVENTS_MINUTES": 60, "IDENTITY_MAX_IDS": 50, "sites": [site_id], "full": 0}
    quiet = lambda _m: None  # noqa: E731
    first = run_person(warehouse, config, quiet)["model_version"]
    events.insert_events(warehouse, [recent(site_id, "newcomer", "Product Viewed", 1, product_id="p03")])
    incremental = run_person(warehouse, config, quiet)["model_version"]

    def written(version):
        found = warehouse.query(
            "SELECT DISTINCT person_id AS p FROM rec_person_items "
            "WHERE site_id = {s:String} AND model_version = {v:UInt64}",
            {"s": site_id, "v": version},
        )
        return {r["p"] for r in found}

    # The newcomer, and the few whose events arrived within the late-event margin of the last run.
    assert "newcomer" in written(incremental) and len(written(incremental)) < len(written(first)) / 2
    model = rec_store.load_model(warehouse, "rec_person_items", site_id, incremental)
    assert set(model["person_id"]) == set(rec_store.load_model(warehouse, "rec_person_items", site_id, first)[
        "person_id"]) | {"newcomer"}  # fmt: skip
    assert rec_store.recorded_rows(warehouse, site_id, "person", incremental) == len(model)

    rec_store.prune_versions(warehouse, keep=1)
    assert written(first) and len(rec_store.load_model(warehouse, "rec_person_items", site_id, incremental)) == len(
        model
    )
    full = run_person(warehouse, {**config, "full": time.time_ns()}, quiet)["model_version"]
    rec_store.prune_versions(warehouse, keep=1)
    deadline = time.monotonic() + 30
    while (written(first) or written(incremental)) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert not written(first) and not written(incremental)
    assert len(rec_store.load_model(warehouse, "rec_person_items", site_id, full)) == len(model)


def test_incremental_popularity_folds_give_what_a_full_fold_gives(store_site):
    """Two incremental runs (a new visitor, a known one buying, a late event in an old visit) and a
    refold of visitors whose oldest interaction left the window give the votes a full fold gives."""
    warehouse, site_id = store_site
    config, quiet = {"LATE_EVENTS_MINUTES": 60, "full": 0}, lambda _m: None
    generation = visitor_votes(warehouse, site_id, config, quiet)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    rows = [recent(site_id, "new", "Product Viewed", 5 - i, product_id=item) for i, item in enumerate(ITEMS[:4])]
    late = recent(site_id, "v5", "Product Added", 3000 - 5 * 7 - 1.5, product_id="p10")
    events.insert_events(warehouse, [*rows, {**late, "received_at": now}])
    assert visitor_votes(warehouse, site_id, config, quiet) == generation
    events.insert_events(warehouse, [recent(site_id, "v0", "Order Completed", 1, order_id="o-new", item_ids=["p11"])])
    assert visitor_votes(warehouse, site_id, config, quiet) == generation
    at, cut = time.time(), time.time() - 2 * 86400
    incremental = vote_store.popularity_votes(warehouse, site_id, generation, at, cut)
    rebuilt = visitor_votes(warehouse, site_id, {**config, "full": time.time_ns()}, quiet)
    assert rebuilt != generation
    full = vote_store.popularity_votes(warehouse, site_id, rebuilt, at, cut)
    assert full.loc[full["item_id"] == "p11", "visitors"].item() > 0 and len(full) == len(ITEMS)
    pd.testing.assert_frame_equal(_by_item(incremental), _by_item(full), rtol=1e-12)
    # A day's window: visitors with older interactions are refolded to what a one-day fold holds.
    vote_store.fold_changed(warehouse, site_id, rebuilt, now, now, time.time_ns(), days=1)
    one_day = _folded_votes(warehouse, site_id, 1, days=1)
    expired, expected = (vote_store.popularity_votes(warehouse, site_id, g, at, cut) for g in (rebuilt, one_day))
    assert expected["visitors"].sum() < full["visitors"].sum()
    pd.testing.assert_frame_equal(_by_item(expired), _by_item(expected), rtol=1e-12)


def _by_item(votes: pd.DataFrame) -> pd.DataFrame:
    return votes.sort_values("item_id").reset_index(drop=True)


def test_a_full_runs_copy_gives_each_part_its_own_people_and_is_dropped_after(store_site):
    """Every interaction is in one part, each visitor in one part only, and nothing of the copy outlives
    the run, nor a run that fails; a copy a stopped process left is dropped by the retention's sweep."""
    warehouse, site_id = store_site
    interactions = warehouse.scalar(
        f"SELECT count() FROM ({store.interactions_sql('1')})", {"site_id": site_id, "days": 180}
    )
    run = time.time_ns()
    with store.copied(warehouse, site_id, run, "visitor"):
        parts = [
            warehouse.query_df(
                f"SELECT * FROM ({mining_rows.part_rows('visitor_id', 'visitor')})",
                {"site_id": site_id, "run": run} | mining_rows.bounds(part, 3),
            )
            for part in range(3)
        ]
        assert {"mining_rows", "visit_rows"} <= set(erasure.person_tables(warehouse))
    assert sum(len(p) for p in parts) == interactions > 0
    visitors = [set(p["visitor"]) for p in parts]
    assert all(visitors) and sum(len(v) for v in visitors) == len(set.union(*visitors)) == 40
    assert warehouse.scalar("SELECT count() FROM mining_rows WHERE run = {r:UInt64}", {"r": run}) == 0
    with pytest.raises(RuntimeError):
        with store.copied(warehouse, site_id, run + 1, "person"):
            assert warehouse.scalar("SELECT count() FROM mining_rows WHERE run = {r:UInt64}", {"r": run + 1})
            raise RuntimeError("the run stops")
    assert warehouse.scalar("SELECT count() FROM mining_rows WHERE run = {r:UInt64}", {"r": run + 1}) == 0
    for left in (run, run + 2):
        mining_rows.copy(
            warehouse,
            site_id,
            left,
            "person_id",
            "SELECT 'p' AS key, 'i' AS item_id, 'view' AS kind, toUInt32(1) AS time",
            {},
        )
    assert mining_rows.drop_stale(warehouse, before=run + 1) == 1
    kept = warehouse.query("SELECT DISTINCT run FROM mining_rows WHERE site_id = {s:String}", {"s": site_id})
    assert [row["run"] for row in kept] == [run + 2]
    mining_rows.drop(warehouse, run + 2)
