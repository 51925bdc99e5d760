"""Mining functions on inputs small enough to check by hand."""

import numpy as np
import pandas as pd
import pytest

from recommender.cooccurrence import cooccurrence
from recommender.evaluate import next_item_metrics
from recommender.mining import (
    baskets,
    catalog_changes,
    context_popularity,
    person_items,
    recent_sessions,
    sessionize,
    with_person,
)
from recommender.rules import basket_rules, frequent_items, min_pair_count, pair_rules
from recommender.session_knn import SessionIndex, sknn_scores, stan_scores, top_items

DAY = 86400.0


def test_rules_have_support_confidence_and_lift():
    frame = pd.DataFrame(
        {"basket_id": ["1", "1", "2", "2", "3", "3", "4", "4"], "item_id": ["a", "b", "a", "b", "a", "c", "b", "c"]}
    )
    rules = basket_rules(frame, min_count=2, min_confidence=0.0)
    # a and b are together in 2 of 4 baskets; each alone in 3: confidence 2/3, lift (2/4) / (3/4 * 3/4).
    assert sorted(zip(rules["antecedent"], rules["consequent"])) == [("a", "b"), ("b", "a")]
    row = rules[rules["antecedent"] == "a"].iloc[0]
    assert row["support"] == pytest.approx(0.5)
    assert row["confidence"] == pytest.approx(2 / 3)
    assert row["lift"] == pytest.approx(0.5 / (0.75 * 0.75))


def test_rules_are_what_mlxtend_fp_growth_gives():
    """Pair counts from one sparse product give FP-growth's rules (two-item sets), to the last bit."""
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    rng = np.random.default_rng(3)
    rows = [(f"b{b}", f"i{i}") for b in range(300) for i in rng.choice(12, size=rng.integers(1, 6), replace=False)]
    baskets = pd.DataFrame(rows, columns=["basket_id", "item_id"])
    got = basket_rules(baskets, min_count=4, min_confidence=0.05)
    kept = baskets[baskets.groupby("basket_id")["item_id"].transform("size") >= 2]
    onehot = pd.crosstab(kept["basket_id"], kept["item_id"]).astype(bool)
    itemsets = fpgrowth(onehot, min_support=4 / len(onehot), use_colnames=True, max_len=2)
    expected = association_rules(itemsets, metric="confidence", min_threshold=0.05, num_itemsets=len(onehot))
    expected = expected.assign(
        antecedent=expected["antecedents"].map(lambda s: next(iter(s))),
        consequent=expected["consequents"].map(lambda s: next(iter(s))),
    ).sort_values(["antecedent", "confidence", "lift", "consequent"], ascending=[True, False, False, True])
    assert len(got) > 40
    columns = ["antecedent", "consequent", "support", "confidence", "lift"]
    assert got[columns].values.tolist() == expected[columns].values.tolist()


def test_rules_from_counts():
    """4 baskets of two or more: a in 3, b in 3, c in 2; a and b together in 2, a and c in 1."""
    items = pd.DataFrame({"item_id": ["a", "b", "c"], "baskets": [3, 3, 2]})
    pairs = pd.DataFrame({"item_id": ["a", "a"], "neighbor_id": ["b", "c"], "baskets": [2, 1]})
    rules = pair_rules(items, pairs, baskets=4, min_count=2, min_confidence=0.0)
    assert rules[["antecedent", "consequent"]].values.tolist() == [["a", "b"], ["b", "a"]]
    assert rules["support"].tolist() == [0.5, 0.5]
    assert rules["confidence"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert rules["lift"].tolist() == pytest.approx([(2 / 4) / (3 / 4 * 3 / 4)] * 2)
    assert pair_rules(items, pairs, baskets=4, min_count=2, min_confidence=0.7).empty


def test_rules_need_a_share_of_baskets_and_are_made_between_the_most_frequent_products():
    assert [min_pair_count(n) for n in (0, 5_999, 9_000, 300_000)] == [2, 2, 3, 100]
    items = pd.DataFrame({"item_id": ["d", "a", "c", "b"], "baskets": [1, 5, 3, 5]})
    assert frequent_items(items, min_count=2, max_items=2) == ["a", "b"]
    assert frequent_items(items, min_count=2, max_items=10) == ["a", "b", "c"]


def test_rules_of_single_item_baskets_are_empty():
    assert basket_rules(pd.DataFrame({"basket_id": ["1", "2"], "item_id": ["a", "b"]})).empty


def test_cooccurrence_is_cosine_normalised_and_decays():
    now = 100 * DAY
    events = pd.DataFrame(
        {
            "session_id": ["s1", "s1", "s2", "s2", "s3", "s3", "s3"],
            "item_id": ["x", "y", "x", "y", "x", "z", "z"],
            "kind": ["view", "view", "view", "view", "view", "view", "purchase"],
            "time": [now] * 4 + [now - 30 * DAY] * 3,
        }
    )
    out = cooccurrence(events, now=now, half_life_days=30.0)
    viewed = out[(out["relation"] == "also_viewed") & (out["item_id"] == "x")].set_index("neighbor_id")["score"]
    # x: 1 + 1 + 0.5 (s3 is one half-life old); y: 2; z: 0.5; pairs x-y 2, x-z 0.5.
    assert viewed["y"] == pytest.approx(2 / np.sqrt(2.5 * 2))
    assert viewed["z"] == pytest.approx(0.5 / np.sqrt(2.5 * 0.5))
    bought = out[out["relation"] == "bought_after_view"]
    assert list(zip(bought["item_id"], bought["neighbor_id"])) == [("x", "z")]


def test_sessionize_splits_on_inactivity():
    events = pd.DataFrame(
        {"site_id": ["s"] * 4, "anonymous_id": ["v", "v", "v", "w"], "time": [0, 60, 4000, 10], "item_id": list("abcd")}
    )
    out = sessionize(events, timeout_minutes=30)
    assert out.groupby("anonymous_id")["session_id"].nunique().to_dict() == {"v": 2, "w": 1}
    assert out.loc[out["item_id"] == "a", "session_id"].item() == out.loc[out["item_id"] == "b", "session_id"].item()


def test_baskets_come_from_carts_and_purchases_per_session():
    frame = pd.DataFrame(
        {
            "site_id": ["s"] * 3,
            "session_id": ["v#1"] * 3,
            "item_id": ["a", "b", "c"],
            "kind": ["view", "cart", "purchase"],
        }
    )
    assert sorted(baskets(frame)["basket_id"]) == ["cart:v#1", "purchase:v#1"]


def _index():
    sessions = pd.DataFrame(
        {
            "session_id": [1, 1, 1, 2, 2, 3, 3],
            "item_id": ["a", "b", "c", "a", "d", "e", "f"],
            "time": [10.0, 11, 12, 20, 21, 30, 31],
        }
    )
    return SessionIndex(sessions)


def test_session_knn_scores_only_items_of_neighbours():
    index = _index()
    current = index.encode(["a"])
    plain = sknn_scores(index, current)
    codes = {item: index.item_pos[item] for item in "abcdef"}
    assert plain[codes["e"]] == 0 and plain[codes["f"]] == 0
    # a's sessions: {a,b,c} (cosine 1/sqrt(3)) and {a,d} (1/sqrt(2)).
    assert plain[codes["d"]] == pytest.approx(1 / np.sqrt(2))
    assert plain[codes["b"]] == pytest.approx(1 / np.sqrt(3))
    stan = stan_scores(index, current, now=25.0)
    assert stan[codes["b"]] > stan[codes["c"]] > 0  # b is nearer a in session 1
    assert list(top_items(stan, 10, exclude=current))[0] in (codes["b"], codes["d"])
    assert codes["a"] not in top_items(stan, 10, exclude=current)


def test_next_item_metrics_by_hand():
    popularity = np.array([1.0, 2.0, 4.0])
    metrics = next_item_metrics(lambda prefix, now: np.array([2, 1]), [(np.array([0, 1, 2]), np.zeros(3))], popularity)
    assert metrics["hr@20"] == 1.0
    assert metrics["mrr@20"] == pytest.approx((1 / 2 + 1) / 2)
    assert metrics["coverage@20"] == pytest.approx(2 / 3)
    assert metrics["popularity@20"] == pytest.approx((4 + 2) / 2 / 4)


def test_person_items_skip_what_was_bought():
    history = pd.DataFrame(
        {
            "site_id": ["s", "s"],
            "person_id": ["p", "p"],
            "item_id": ["x", "z"],
            "kind": ["view", "purchase"],
            "time": [0.0, 0.0],
        }
    )
    neighbors = pd.DataFrame(
        {"site_id": ["s", "s"], "item_id": ["x", "x"], "neighbor_id": ["y", "z"], "score": [0.5, 0.2]}
    )
    out = person_items(history, neighbors, now=0.0)
    assert out[["person_id", "item_id", "score"]].values.tolist() == [["p", "y", 0.5]]


def test_rows_take_the_stitched_person_else_their_own_ids():
    history = pd.DataFrame(
        {
            "site_id": ["s"] * 5,
            "anonymous_id": ["tablet", "tablet", "laptop", "", "kiosk"],
            "user_id": ["", "ann", "", "C9", ""],
            "channel_id": [0, 0, 0, 1, 0],
        }
    )
    links = pd.DataFrame(
        {
            "site_id": ["s"] * 3,
            "identity": ["anon:tablet", "user:ann", "customer:C9"],
            "person_id": ["p_1", "p_1", "p_1"],
        }
    )
    # The laptop and the kiosk are nobody's yet: they stand for themselves.
    assert list(with_person(history, links)["person_id"]) == ["p_1", "p_1", "laptop", "p_1", "kiosk"]
    assert list(with_person(history, links.iloc[:0])["person_id"]) == ["tablet", "ann", "laptop", "C9", "kiosk"]


def test_context_popularity_overall_category_and_trending():
    now = 100 * DAY
    events = pd.DataFrame(
        {
            "site_id": ["s"] * 6,
            "item_id": ["old", "old", "old", "new", "new", "toy"],
            "kind": ["purchase", "purchase", "purchase", "view", "view", "view"],
            "time": [now - 50 * DAY] * 3 + [now - DAY, now - DAY, now - 50 * DAY],
        }
    )
    categories = pd.DataFrame({"site_id": ["s", "s"], "item_id": ["old", "toy"], "category": ["Home", "Toys"]})
    out = context_popularity(events, categories, now=now)
    by_context = {c: list(g["item_id"]) for c, g in out.groupby("context")}
    assert by_context["overall"][0] == "old"
    assert by_context["trending"] == ["new"]
    assert by_context["category:Toys"] == ["toy"]


def test_catalog_changes_keep_unchanged_rows_out():
    current = pd.DataFrame(
        {"site_id": ["s"], "product_id": ["a"], "name": ["A"], "category": ["c"], "price": [1.0], "out_of_stock": [1]}
    )
    # -1: the events said nothing about stock, so the stored flag stands.
    tracked = pd.concat([current.assign(out_of_stock=-1), current.assign(product_id="b")], ignore_index=True)
    assert catalog_changes(tracked, current)["product_id"].tolist() == ["b"]
    assert catalog_changes(current.assign(out_of_stock=0), current)["out_of_stock"].tolist() == [0]


def test_a_session_of_one_item_has_no_neighbours():
    events = pd.DataFrame({"session_id": ["s"], "item_id": ["x"], "kind": ["view"], "time": [0.0]})
    assert cooccurrence(events, now=0.0).empty


def test_mining_functions_take_empty_input():
    empty = pd.DataFrame(
        {c: pd.Series(dtype="str") for c in ("site_id", "anonymous_id", "item_id", "kind")}
        | {"time": pd.Series(dtype="int64")}
    )
    sessions = sessionize(empty)
    assert context_popularity(empty, empty.assign(category=""), now=0.0).empty
    assert recent_sessions(sessions).empty and baskets(sessions).empty
