"""Offline evaluation: the baselines as published, the served path itself, protocols and intervals."""

import numpy as np
import pandas as pd
import pytest

from recommender.baselines import DEFAULTS
from recommender.evaluate import HIDDEN, SHOWN, evaluate_split, served_models, served_ranker
from recommender.ranking import SERVED, repeat_share, return_pattern, with_repeats
from recommender.sequential import pair_counts, sequential_rules
from recommender.serving import Request, recommend
from recommender.session_data import DataError, Split, instacart_sessions, prepare, time_split
from recommender.session_knn import KnnParams, SessionIndex, sknn_recent_scores, vsknn_scores
from recommender.tuning import best_baselines, draws, lead, tune, tune_baselines, validation_split
from tests.support.datasets import find_data


def clicks(*sessions, start=0.0) -> pd.DataFrame:
    rows = []
    for n, items in enumerate(sessions):
        for i, item in enumerate(items):
            rows.append({"session_id": f"s{n}", "item_id": item, "time": start + n * 1000.0 + i})
    return pd.DataFrame(rows)


def as_dict(rules: pd.DataFrame) -> dict:
    return {(a, b): s for a, b, s in zip(rules["item_id"], rules["neighbor_id"], rules["score"])}


def test_sequential_rules_weigh_one_over_the_distance():
    rules = as_dict(sequential_rules(clicks(list("abc"), list("ab"))))
    assert rules == {("a", "b"): 2.0, ("a", "c"): 0.5, ("b", "c"): 1.0}


def test_sequential_rules_keep_the_best_per_item():
    rules = sequential_rules(clicks(list("ab"), list("ab"), list("ac")), per_item=1)
    assert as_dict(rules) == {("a", "b"): 2.0}


def test_pair_counts_count_every_pair_both_ways_with_repeats():
    rules = as_dict(pair_counts(clicks(list("aba"))))
    # pairs (a,b), (a,a), (b,a): each counted both ways, as session-rec's AR does
    assert rules == {("a", "b"): 2.0, ("b", "a"): 2.0, ("a", "a"): 2.0}


def test_vsknn_weighs_the_latest_shared_click():
    index = SessionIndex(clicks(list("ax"), list("by")))
    current = index.encode(["a", "b"])  # position weights a: 1/2, b: 2/2
    scores = dict(zip(index.items, vsknn_scores(index, current)))
    # neighbour "bx"... s1 shares b (weight 1, over 2 distinct) at step 1; s0 shares a (0.5/2) at step 2
    assert scores["y"] == pytest.approx(0.5) and scores["x"] == pytest.approx(0.25 / 2)


def test_repeat_share_counts_returns_after_the_first_click():
    index = SessionIndex(clicks(list("aba"), list("cd"), list("xyzx")))
    assert repeat_share(index) == pytest.approx(2 / 6)
    share, distances = return_pattern(index, longest=4)
    # one return two clicks back (a_b_a), one three back (x_yz_x); add-one smoothing on 1..4
    assert share == pytest.approx(1 / 3) and distances.tolist() == pytest.approx([0, 1 / 6, 2 / 6, 2 / 6, 1 / 6])


def test_with_repeats_ranks_seen_items_by_the_measured_pattern():
    scores = np.array([0.0, 0.0, 1.0, 0.5])  # items 0 and 1 are the session's
    session = np.array([0, 1])
    last_first = np.array([0.0, 0.8, 0.2])
    never = with_repeats(scores, session, 0.0, last_first)
    assert never[0] == never[1] == 0 and never[2] > never[3] > 0
    often = with_repeats(scores, session, 0.8, last_first)
    assert often[1] > often[0] > often[2]  # the last click first, then the one before, then new items
    assert often.sum() == pytest.approx(1.0)
    further_back = with_repeats(scores, session, 0.8, np.array([0.0, 0.2, 0.8]))
    assert further_back[0] > further_back[1]  # a shop whose visitors go two clicks back


def test_time_split_holds_out_the_last_days_and_unknown_items():
    frame = pd.concat(
        [clicks(list("ab"), list("bc")), clicks(list("az"), start=10 * 86400.0).assign(session_id="late")]
    )
    with pytest.raises(DataError, match="no training or no test"):
        time_split(frame, 1.0)  # "z" was never seen in training: one click is left, nothing to predict
    with pytest.raises(DataError):
        time_split(frame.iloc[0:0], 1.0)


def test_time_split_drops_test_sessions_left_with_one_known_click():
    frame = pd.concat([clicks(list("ab"), list("bc")), clicks(list("abz"), start=10 * 86400.0).assign(session_id="t")])
    split = time_split(frame, 1.0)
    assert split.test["item_id"].tolist() == ["a", "b"]


def test_instacart_orders_end_on_one_day_in_add_to_cart_order(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        ",order_id,user_id,order_number,order_dow,order_hour_of_day,days_since_prior_order,product_id,"
        "add_to_cart_order,reordered\n"
        "0,10,1,1,0,8,,5,2.0,0\n1,10,1,1,0,8,,6,1.0,0\n2,11,1,2,0,9,3.0,5,1.0,1\n"
        "3,20,2,1,0,10,,7,1.0,0\n"
    )
    frame = instacart_sessions(path).sort_values("time")
    last = frame.groupby("session_id")["time"].max()
    assert last["11"] - last["10"] == pytest.approx(3 * 86400 + 3600, abs=2)
    assert abs(last["20"] - last["11"]) < 86400  # both users' last orders fall on the same day
    assert frame[frame["session_id"] == "10"]["item_id"].tolist() == ["6", "5"]


def shop(seed: int = 3, sessions: int = 400) -> pd.DataFrame:
    """Sessions walking a ring of 30 items, so the next click is learnable; some clicks go back."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(sessions):
        item = int(rng.integers(30))
        for i in range(int(rng.integers(2, 6))):
            rows.append({"session_id": f"v{s}", "item_id": f"i{item}", "time": s * 3600.0 + i * 30})
            item = item if rng.random() < 0.2 else (item + 1) % 30
    return pd.DataFrame(rows)


def test_the_evaluation_scores_what_recommend_answers():
    split = time_split(shop(), 2.0)
    models = served_models(split.train)
    items, times = ["i3", "i4", "i5"], np.array([1.0, 2.0, 3.0])
    for show_seen, context, item in ((True, "home", ""), (False, "product", "i5")):
        request = Request(
            context=context,
            item_id=item,
            limit=20,
            session=[(t, "view", i) for t, i in zip(times, items)],
            now=3.0,
            show_seen=show_seen,
            params=SERVED,
        )
        expected = [x["itemId"] for x in recommend(models, request).items]
        assert served_ranker(models, show_seen)(items, times) == expected
    hidden = served_ranker(models, False)(items, times)
    assert hidden and not set(hidden) & set(items)
    assert hidden[0] == "i6"  # the ring's next item


def test_both_protocols_every_strategy_with_intervals():
    split = time_split(shop(), 2.0)
    rows = evaluate_split(split, progress=lambda _m: None, rounds=200)
    by = {(r["protocol"], r["strategy"]): r for r in rows}
    names = {SHOWN, HIDDEN, "popularity", "ar", "sr", "sknn", "vsknn"}
    assert {s for _, s in by} == names and {p for p, _ in by} == {"next_item", "discovery"}
    assert by["next_item", SHOWN]["shipped"] and by["discovery", HIDDEN]["shipped"]
    for row in rows:
        assert row["hr@20_ci"][0] <= row["hr@20"] <= row["hr@20_ci"][1]
        assert row["mrr@20"] <= row["hr@20"]
    assert by["discovery", "sr"]["predictions"] < by["next_item", "sr"]["predictions"]
    # the ring is learnable: every session model beats popularity, and the interval of the difference says so
    assert by["discovery", HIDDEN]["hr@20"] > 0.9
    assert by["discovery", "popularity"]["shipped_minus_this"]["hr@20"][0] > 0


def test_tuning_reads_only_the_training_period():
    split = time_split(shop(), 2.0)
    validation = validation_split(split, 2.0)
    assert validation.train["time"].max() < split.test["time"].min()
    assert set(validation.test["session_id"]) <= set(split.train["session_id"])
    record = tune({"ring": validation}, grid={"sequential": [0.0, 1.0]}, progress=lambda _m: None)
    assert [r["values"] for r in record["results"]] == [{"sequential": 0.0}, {"sequential": 1.0}]
    values = dict(record["chosen"]["values"])
    discovery = values.pop("discovery")
    assert values in [r["values"] for r in record["results"]] and discovery in [r["values"] for r in record["results"]]


def test_baselines_are_tuned_on_validation_and_the_served_ranking_against_them():
    validation = validation_split(time_split(shop(), 2.0), 2.0)
    grids = {"sr": {"steps": [1, 3], "weighting": ["div"], "pruning": [20]}, "vsknn": {"k": [1, 100]}}
    baselines = tune_baselines({"ring": validation}, grids=grids, progress=lambda _m: None)
    tried = [r["values"] for r in baselines["sr"]["results"]]
    assert tried[0] == DEFAULTS["sr"] and {"steps": 1, "weighting": "div", "pruning": 20} in tried
    assert baselines["vsknn"]["chosen"]["figures"]["ring"]["discovery"]["hr@20"] > 0.5
    record = tune({"ring": validation}, grid={"vsknn": [0.5, 2.0]}, progress=lambda _m: None, baselines=baselines)
    best = best_baselines(baselines)
    for result in record["results"]:
        assert result["lead"] == pytest.approx(lead(result["figures"], best), abs=1e-4)
    assert record["chosen"]["lead"] >= max(r["lead"] for r in record["results"])  # each protocol on its own


def test_discovery_values_rank_only_where_seen_products_are_hidden():
    params = SERVED.with_values({"vsknn": 0.5, "discovery": {"vsknn": 3.0, "knn.k": 7}})
    assert params.vsknn == 0.5 and params.for_discovery().vsknn == 3.0 and params.for_discovery().knn.k == 7
    assert params.for_discovery().discovery == () and params.describe()["discovery"] == {"knn.k": 7, "vsknn": 3.0}


def test_random_draws_are_distinct_and_repeatable():
    grid = {"a": [1, 2, 3], "b": [1, 2, 3, 4]}
    assert len(draws(grid, 20)) == 12  # the whole grid when it is small
    some = draws(grid, 5)
    assert len(some) == 5 and len({tuple(d.items()) for d in some}) == 5 and some == draws(grid, 5)


def test_session_rec_weightings_and_idf():
    index = SessionIndex(clicks(list("ax"), list("by"), list("bz"), list("bw")))
    current = index.encode(["a", "b"])
    same = dict(zip(index.items, vsknn_scores(index, current, params=KnnParams(weighting="same"))))
    assert same["x"] == pytest.approx(0.5 * 0.5)  # a weighs 1 of 2 distinct; a is 2 clicks back: 1/2
    quadratic = dict(zip(index.items, vsknn_scores(index, current, params=KnnParams(weighting_score="quadratic"))))
    assert quadratic["x"] == pytest.approx(0.25 / 4)
    idf = dict(zip(index.items, vsknn_scores(index, current, params=KnnParams(idf_weighting=1.0))))
    assert idf["x"] == pytest.approx(0.125 * (1 + np.log(4 / 1)))  # x: once in 4 sessions
    jaccard = sknn_recent_scores(index, index.encode(["b"]), params=KnnParams(similarity="jaccard"))
    assert dict(zip(index.items, jaccard))["y"] == pytest.approx(1 / 2)


def test_sequential_rules_weightings_and_no_pruning():
    sessions = clicks(list("abc"), list("ad"))
    assert as_dict(sequential_rules(sessions, weighting="quadratic"))[("a", "c")] == pytest.approx(0.25)
    assert as_dict(sequential_rules(sessions, steps=1)) == {("a", "b"): 1.0, ("b", "c"): 1.0, ("a", "d"): 1.0}
    assert len(sequential_rules(sessions, per_item=0)) == len(sequential_rules(sessions, per_item=20)) == 4


@pytest.mark.slow
def test_yoochoose_sample_served_beats_popularity_by_far():
    from recommender.session_data import read_session_file, subsample

    train = read_session_file(find_data("yoochoose/yoochoose-clicks-100k_train_full.txt"))
    test = read_session_file(find_data("yoochoose/yoochoose-clicks-100k_test.txt"))
    rows = evaluate_split(subsample(Split(train, test), 120), progress=lambda _m: None, rounds=200)
    shipped = {r["protocol"]: r for r in rows if r["shipped"]}
    popular = {r["protocol"]: r for r in rows if r["strategy"] == "popularity"}
    for protocol in ("next_item", "discovery"):
        assert shipped[protocol]["hr@20"] > 0.4
        assert popular[protocol]["shipped_minus_this"]["hr@20"][0] > 0.2


def test_prepare_drops_rare_items_then_single_clicks():
    frame = clicks(list("ab"), list("ab"), list("ac"))
    assert set(prepare(frame, min_item_support=2)["item_id"]) == {"a", "b"}


def test_show_seen_names_contexts_only():
    from core import settings

    assert settings.load({"REC_SHOW_SEEN": "home,cart"})["REC_SHOW_SEEN"] == "home,cart"
    with pytest.raises(settings.SettingsError, match="unknown context"):
        settings.load({"REC_SHOW_SEEN": "home,checkout"})


def test_the_discovery_values_rank_the_hidden_list_and_only_it():
    models = served_models(time_split(shop(), 2.0).train)
    session = [(float(t), "view", i) for t, i in enumerate(["i3", "i4", "i5", "i3"], start=1)]

    def answer(params, show_seen):
        request = Request(context="home", limit=10, session=session, now=4.0, show_seen=show_seen, params=params)
        return [(x["itemId"], x["score"]) for x in recommend(models, request).items]

    stan_only = SERVED.with_values({"vsknn": 0.0, "sequential": 0.0})
    split = SERVED.with_values({"discovery": {"vsknn": 0.0, "sequential": 0.0}})
    assert answer(split, False) == answer(stan_only, False) != answer(SERVED, False)
    assert answer(split, True) == answer(SERVED, True) != answer(stan_only, True)
