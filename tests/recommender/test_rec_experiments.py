"""A/B tests of strategies: assignment by browser id, the arm recorded with the answer, the statistics."""

import time

import pytest

from recommender.experiments import apply_arm, assign, check_arms, compare_arms
from recommender.serving import Request
from warehouse.queries import rec_experiments


def test_a_browser_keeps_its_arm_and_arms_are_balanced():
    arms = ("served", "stan")
    first = [assign("s1", "e1", f"browser-{n}", arms) for n in range(2000)]
    assert first == [assign("s1", "e1", f"browser-{n}", arms) for n in range(2000)]
    assert 900 < first.count("stan") < 1100
    # a new experiment reshuffles: about half the browsers change arm
    second = [assign("s1", "e2", f"browser-{n}", arms) for n in range(2000)]
    assert 800 < sum(a != b for a, b in zip(first, second)) < 1200


def test_arms_change_only_what_they_name():
    request = Request(context="home", session=[(1.0, "view", "a")], person_id="p", show_seen=True)
    assert apply_arm(request, "served") is request
    assert apply_arm(request, "hide_seen").show_seen is False
    assert apply_arm(request, "stan").params.vsknn == 0 and apply_arm(request, "stan").params.sequential == 0
    control = apply_arm(request, "popular")
    assert control.session == [] and control.person_id == "" and request.session  # the original is untouched


def test_arms_are_checked():
    with pytest.raises(ValueError, match="unknown arm"):
        check_arms(["served", "magic"])
    with pytest.raises(ValueError, match="two or more"):
        check_arms(["served", "served"])


def row(arm, impressions, clicks, answers=1000, revenue=0.0, revenue_sq=0.0):
    return {
        "arm": arm,
        "answers": answers,
        "impressions": impressions,
        "clicks": clicks,
        "orders": 0,
        "revenue": revenue,
        "revenue_sq": revenue_sq,
    }


def test_significance_of_click_through_and_revenue():
    rows = [
        row("served", 2000, 100, revenue=1000.0, revenue_sq=100_000.0),  # 1.0 a answer, sd ~10
        row("stan", 2000, 160, revenue=1100.0, revenue_sq=110_000.0),
        row("popular", 2000, 110, revenue=0.0, revenue_sq=0.0),
    ]
    by = {r["arm"]: r for r in compare_arms(rows, "served")}
    assert by["served"]["ctr_significant"] is None
    assert by["stan"]["ctr"] == pytest.approx(0.08) and by["stan"]["ctr_significant"] is True
    assert by["popular"]["ctr_significant"] is False  # 5.5% against 5.0% on 2,000 impressions is noise
    low, high = by["served"]["ctr_ci"]
    assert low < 0.05 < high and high - low < 0.02
    assert by["stan"]["revenue_significant"] is False  # 1.1 against 1.0 with a spread of ~10 per answer
    assert by["popular"]["revenue_significant"] is True  # nothing at all against 1.0 +- 0.6


@pytest.mark.slow
def test_the_endpoint_splits_browsers_and_records_each_answers_arm(endpoint, mined):
    client, state, site = endpoint
    warehouse = mined[0]
    rec_experiments.set_experiment(warehouse, site["site_id"], "ab-1", ["served", "popular"], active=True)
    state.index.refresh(force=True)
    answers = {}
    for n in range(16):
        time.sleep(0.06)  # under the endpoint's 20 requests a second per client
        body = client.get(
            "/v1/recommendations", query_string={"key": site["public_key"], "anonymousId": f"ab-{n}"}
        ).get_json()
        assert body["arm"] == assign(site["site_id"], "ab-1", f"ab-{n}", ("served", "popular"))
        answers[body["recommendationId"]] = body["arm"]
    time.sleep(0.06)
    anonymous = client.get("/v1/recommendations", query_string={"key": site["public_key"]}).get_json()
    assert "arm" not in anonymous  # no browser id: served as usual, counted in no arm
    state.flush()
    rows = warehouse.query(
        "SELECT recommendation_id, arm FROM rec_served_arms WHERE site_id = {s:String} AND experiment = 'ab-1'",
        {"s": site["site_id"]},
    )
    assert {r["recommendation_id"]: r["arm"] for r in rows} == answers
    assert set(answers.values()) == {"served", "popular"}
    results = {r["arm"]: r for r in rec_experiments.arm_results(warehouse, site["site_id"], "ab-1")}
    assert sum(int(r["answers"]) for r in results.values()) == 16
    rec_experiments.set_experiment(warehouse, site["site_id"], "ab-1", ["served", "popular"], active=False)
    state.index.refresh(force=True)
    time.sleep(0.06)
    after = client.get("/v1/recommendations", query_string={"key": site["public_key"], "anonymousId": "ab-1"})
    assert "arm" not in after.get_json()
