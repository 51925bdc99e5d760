"""Segments, scores and the dashboard count stitched people, on both backends.

One shopper, by hand: on device A she browses, buys as a guest and leaves a
second item in the cart, then logs in; the next day, on device B, she logs in
and orders that item. Three ids (two devices, one login), one person: no
abandoned cart, two orders, two active days.
"""

import datetime as dt

from mining import membership, stitching
from tests.support.factories import order, tracked
from warehouse.queries import events, kpis, scores
from warehouse.queries import identity as ids
from warehouse.queries import segments as store

DAY1 = dt.datetime(2026, 3, 10, 10, 0)
DAY2 = dt.datetime(2026, 3, 11, 9, 0)
MINUTE = dt.timedelta(minutes=1)


def shopper_rows(sid: str) -> list[dict]:
    return [
        tracked(sid, DAY1, "Product Viewed", "device-a", product_id="p1", price=20.0),
        tracked(sid, DAY1 + MINUTE, "Product Added", "device-a", product_id="p1", price=20.0, quantity=1),
        order(sid, DAY1 + 5 * MINUTE, "device-a", "o1", 20.0, items=("p1",)),  # a guest order
        tracked(sid, DAY1 + 30 * MINUTE, "Product Added", "device-a", product_id="p2", price=35.0, quantity=1),
        tracked(sid, DAY1 + 40 * MINUTE, "", "device-a", user_id="u1", type="identify"),  # logs in on A
        tracked(sid, DAY2, "Page Viewed", "device-b", type="page"),
        tracked(sid, DAY2 + 3 * MINUTE, "Checkout Started", "device-b", user_id="u1"),
        order(sid, DAY2 + 5 * MINUTE, "device-b", "o2", 35.0, items=("p2",), user_id="u1"),
    ]


def segments_of(warehouse, sid: str) -> dict[str, list[str]]:
    members = store.open_memberships(warehouse, sid)
    return {name: sorted(group["person_id"]) for name, group in members.groupby("segment")}


def test_devices_and_login_are_one_person_in_segments_and_scores(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, shopper_rows(sid))

    # Before the identity job has run, each id is a person of its own: the
    # cart left on device A looks abandoned and nobody has ordered twice.
    membership.refresh_site(warehouse, sid, lambda _: None)
    before = segments_of(warehouse, sid)
    assert before["cart_abandoners"] == ["device-a"]
    assert "repeat_buyers" not in before and before["new_visitors"] == ["device-a", "device-b", "u1"]
    assert sorted(store.person_facts(warehouse, sid)["person_id"]) == ["device-a", "device-b", "u1"]

    stitching.stitch_site(warehouse, sid)
    person = ids.person_of(warehouse, sid, "user:u1")
    assert person == ids.person_of(warehouse, sid, "anon:device-a") == ids.person_of(warehouse, sid, "anon:device-b")

    facts = store.person_facts(warehouse, sid).set_index("person_id")
    assert list(facts.index) == [person]
    row = facts.loc[person]
    assert (row["orders"], row["revenue"], row["cart_adds"], row["active_days"]) == (2, 55.0, 2, 2)
    assert row["open_cart_value"] == 0  # the p2 cart was ordered on device B

    changes = membership.refresh_site(warehouse, sid, lambda _: None)
    assert ("cart_abandoners", "device-a") in set(zip(changes["segment"], changes["person_id"]))
    after = segments_of(warehouse, sid)
    assert "cart_abandoners" not in after
    assert after["repeat_buyers"] == after["returning_visitors"] == after["new_visitors"] == [person]

    days = scores.order_days(warehouse, sid)
    assert list(days["customer"]) == [person, person] and sorted(days["value"]) == [20.0, 35.0]


def test_dashboard_counts_the_stitched_person_once(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, shopper_rows(sid))
    stitching.stitch_site(warehouse, sid)
    membership.refresh_site(warehouse, sid, lambda _: None)
    start, end = DAY1.date(), DAY2.date()
    for segment in (None, "repeat_buyers"):
        visitors = kpis.visitors(warehouse, sid, start, end, segment)
        assert list(visitors["visitors"]) == [1, 1] and list(visitors["events"]) == [5, 3]
        assert list(kpis.sessions(warehouse, sid, start, end, segment)["sessions"]) == [1, 1]
        assert [s["people"] for s in kpis.funnel(warehouse, sid, start, end, segment)] == [1, 1, 1, 1]
        returning = kpis.new_vs_returning(warehouse, sid, start, end, segment)
        assert list(returning["new_visitors"]) == [1, 0] and list(returning["returning_visitors"]) == [0, 1]
        rate = kpis.repeat_purchase_rate(warehouse, sid, start, end, segment)
        assert rate == {"buyers": 1, "repeat_buyers": 1, "rate": 1.0}
        retained = kpis.retention(warehouse, sid, start, end, segment)
        assert retained[["months_later", "customers"]].to_dict("records") == [{"months_later": 0, "customers": 1}]
    assert kpis.funnel(warehouse, sid, start, end, "window_shoppers")[0]["people"] == 0


def test_visits_join_across_devices_and_inserts_at_the_thirty_minute_gap(warehouse, site):
    sid = site["site_id"]
    at = dt.datetime(2026, 2, 10, 10, 0)
    second = dt.timedelta(seconds=1)
    for batch in (
        [tracked(sid, at, "Page Viewed", "a"), tracked(sid, at + 1000 * second, "Page Viewed", "a", user_id="u")],
        [tracked(sid, at + 2800 * second, "Page Viewed", "b", user_id="u")],  # 1800 s after: the same visit
        [tracked(sid, at + 4601 * second, "Page Viewed", "a")],  # 1801 s after: a new one
        [tracked(sid, at + 4601 * second, "Product Viewed", "b", user_id="u")],  # same second, other device
        [tracked(sid, at + dt.timedelta(days=1), "Page Viewed", "b", user_id="u")],
    ):
        events.insert_events(warehouse, batch)
    day1, day2 = at.date(), at.date() + dt.timedelta(days=1)
    assert list(kpis.sessions(warehouse, sid, day1, day2)["sessions"]) == [4, 1]  # a, u, b, a: not stitched
    stitching.stitch_site(warehouse, sid)
    assert list(kpis.sessions(warehouse, sid, day1, day2)["sessions"]) == [2, 1]
