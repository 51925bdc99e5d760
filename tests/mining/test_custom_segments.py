"""Custom segments: conditions compile from an allow-list to bound SQL and pick the right people."""

import datetime as dt

import pytest

from mining import jobs, membership
from tests.support.config import only
from tests.support.factories import order, tracked
from warehouse.queries import conditions, events
from warehouse.queries import segments as store

T0 = dt.datetime(2026, 3, 1, 12)


@pytest.mark.parametrize(
    "definition, message",
    [
        ([], "list of conditions"),
        ([{"field": "orders; DROP TABLE events", "op": ">", "value": 1}], "unknown field"),
        ([{"field": "orders", "op": "> 0 OR 1 =", "value": 1}], "op must be one of"),
        ([{"field": "orders", "op": ">", "value": "1"}], "must be a number"),
        ([{"field": "score", "name": "secret", "op": ">", "value": 1}], "score name"),
        ([{"field": "event_count", "event": "X", "op": ">", "value": 1, "days": -3}], "days"),
        ([{"field": "trait", "name": "", "op": "=", "value": "x"}], "name must be"),
        ([{"field": "property", "name": "plan", "op": "contains", "value": 3}], "contains needs a text"),
        ([{"field": "product", "action": "returned", "product_id": "p1"}], "action must be one of"),
        ([{"field": "product", "action": "bought", "product_id": ""}], "product_id must be"),
    ],
)
def test_bad_conditions_are_refused_with_a_reason(definition, message):
    with pytest.raises(conditions.ConditionError, match=message):
        conditions.compile_conditions(definition)


def test_values_travel_as_parameters_never_as_sql():
    sql, params = conditions.compile_conditions(
        [{"field": "property", "event": "x') OR 1=1 --", "name": "n'", "op": "=", "value": "v' OR '1"}]
    )
    assert "OR 1=1" not in sql and "v'" not in sql
    assert params == {"n0": "n'", "e0": "x') OR 1=1 --", "v0": "v' OR '1"}


@pytest.fixture
def shop(warehouse, site):
    sid = site["site_id"]
    rows = [
        order(sid, T0 - dt.timedelta(days=40), "ann", "o1", 50.0),
        order(sid, T0 - dt.timedelta(days=2), "ann", "o2", 70.0, properties='{"coupon":"SPRING","discount":5}'),
        order(sid, T0 - dt.timedelta(days=1), "bob", "o3", 20.0, properties='{"coupon":"WINTER"}'),
        tracked(sid, T0 - dt.timedelta(days=3), "Coupon Applied", "bob"),
        tracked(sid, T0 - dt.timedelta(days=90), "Coupon Applied", "cy"),
        tracked(sid, T0, "Feedback Submitted", "cy", score=2.0),
        tracked(sid, T0 - dt.timedelta(days=6), "Product Viewed", "cy", product_id="mug"),
        {**tracked(sid, T0 - dt.timedelta(days=5), "", "cy"), "type": "identify", "traits": '{"plan":"gold"}'},
        {**tracked(sid, T0 - dt.timedelta(days=4), "", "bob"), "type": "identify", "traits": '{"plan":"gold"}'},
        {**tracked(sid, T0 - dt.timedelta(days=1), "", "bob"), "type": "identify", "traits": '{"plan":"free"}'},
    ]
    events.insert_events(warehouse, rows)
    return sid


@pytest.mark.parametrize(
    "definition, expected",
    [
        ([{"field": "orders", "op": ">=", "value": 2}], ["ann"]),
        ([{"field": "revenue", "op": "<", "value": 60}, {"field": "orders", "op": ">", "value": 0}], ["bob"]),
        ([{"field": "event_count", "event": "Coupon Applied", "op": ">=", "value": 1}], ["bob", "cy"]),
        ([{"field": "event_count", "event": "Coupon Applied", "op": ">=", "value": 1, "days": 30}], ["bob"]),
        ([{"field": "property", "event": "Order Completed", "name": "coupon", "op": "=", "value": "SPRING"}], ["ann"]),
        ([{"field": "property", "name": "coupon", "op": "contains", "value": "INT"}], ["bob"]),
        ([{"field": "property", "name": "discount", "op": ">", "value": 1}], ["ann"]),
        ([{"field": "trait", "name": "plan", "op": "=", "value": "gold"}], ["cy"]),
        ([{"field": "days_since_last_seen", "op": ">=", "value": 2}], ["ann"]),
        ([{"field": "feedback_score", "op": "<=", "value": 2}], ["cy"]),
        ([{"field": "product", "action": "bought", "product_id": "p1"}], ["ann", "bob"]),
        ([{"field": "product", "action": "bought", "product_id": "p1", "days": 1}], ["bob"]),
        ([{"field": "product", "action": "bought", "product_id": "p1", "op": ">=", "value": 2}], ["ann"]),
        ([{"field": "product", "action": "viewed", "product_id": "mug"}], ["cy"]),
        ([{"field": "product", "action": "viewed", "product_id": "mug", "days": 5}], []),
    ],
)
def test_conditions_pick_the_right_people(warehouse, shop, definition, expected):
    assert conditions.matching_people(warehouse, shop, definition) == expected


def test_custom_segment_on_scores_joins_membership_history(warehouse, shop):
    jobs.run_scores(warehouse, only(shop), progress=lambda _: None)
    with pytest.raises(conditions.ConditionError, match="built-in"):
        membership.define_custom(warehouse, shop, "champions", [{"field": "orders", "op": ">", "value": 0}])
    count = membership.define_custom(
        warehouse, shop, "big_spenders", [{"field": "score", "name": "historic_value", "op": ">", "value": 100}]
    )
    assert count == 1
    membership.refresh_site(warehouse, shop, progress=lambda _: None)
    assert store.segment_members(warehouse, shop, "big_spenders")["person_id"].tolist() == ["ann"]
    conditions.define_segment(
        warehouse, shop, "big_spenders", [{"field": "score", "name": "historic_value", "op": ">", "value": 10}]
    )
    membership.refresh_site(warehouse, shop, progress=lambda _: None)
    assert sorted(store.segment_members(warehouse, shop, "big_spenders")["person_id"]) == ["ann", "bob"]


@pytest.mark.process
def test_cli_reports_bad_definitions_in_one_line(tmp_path):
    from tests.support.live import basirat

    for where, expected in [("{nope", "not valid JSON"), ('[{"field": "x", "op": "=", "value": 1}]', "unknown field")]:
        result = basirat(tmp_path, "segments", "define", "mine", "--site", "s_x", "--where", where, check=False)
        assert result.returncode == 1 and expected in result.stderr and "Traceback" not in result.stderr
