"""Segment rules on hand-checkable facts, and the job's membership history on both backends."""

import datetime as dt

import numpy as np
import pandas as pd

from mining import membership, stitching
from mining import segments as rules
from mining.segments import membership_changes, membership_step
from tests.support.factories import AS_OF, NEVER, facts, order, person, shop_rows, tracked
from warehouse.queries import events
from warehouse.queries import segments as store

DAYS = pd.Timedelta(days=1)


def names(frame: pd.DataFrame, segment: str) -> list[str]:
    return sorted(frame.loc[frame["segment"] == segment, "person_id"])


def test_quintiles_rank_by_percentile_and_keep_ties_together():
    scores = rules.quintile(pd.Series([10, 20, 30, 40, 50, 50, 50, 60, 70, 80]))
    assert scores.tolist() == [1, 1, 2, 2, 4, 4, 4, 4, 5, 5]
    assert rules.quintile(pd.Series([3.0, 1.0]), higher_is_better=False).tolist() == [3, 5]


def test_rfm_cells_follow_the_classic_map():
    assert rules.rfm_cell(5, 5) == "champions"
    assert rules.rfm_cell(3, 4) == "loyal"
    assert rules.rfm_cell(1, 5) == "cannot_lose"
    assert rules.rfm_cell(2, 3) == "at_risk"
    assert rules.rfm_cell(1, 1) == "hibernating"
    assert rules.rfm_cell(5, 1) == "new_customers"
    assert rules.rfm_cell(4, 2) == "potential_loyalists"


def test_rfm_table_scores_five_buyers_one_per_quintile():
    people = [
        person(f"b{i}", orders=i, revenue=100.0 * i, last_order_at=AS_OF - (50 - 10 * i) * DAYS) for i in range(1, 6)
    ]
    table = rules.rfm_table(facts(*people, person("browser")), AS_OF).set_index("person_id")
    assert "browser" not in table.index
    assert table["r"].tolist() == [1, 2, 3, 4, 5]
    assert table["f"].tolist() == [1, 2, 3, 4, 5]
    assert table["m"].tolist() == [1, 2, 3, 4, 5]
    assert table.loc["b5", "cell"] == "champions" and table.loc["b1", "cell"] == "hibernating"
    assert table.loc["b3", "recency_days"] == 20


def test_cart_abandoners_need_an_open_cart_older_than_an_hour():
    frame = facts(
        person("left_cart", cart_adds=2, last_cart_at=AS_OF - 2 * DAYS, open_cart_value=42.5),
        person("bought_after", cart_adds=1, last_cart_at=AS_OF - 3 * DAYS, last_order_at=AS_OF - 2 * DAYS, orders=1),
        person("still_shopping", cart_adds=1, last_cart_at=AS_OF - pd.Timedelta(minutes=10), open_cart_value=5.0),
        person("long_ago", cart_adds=1, last_cart_at=AS_OF - 90 * DAYS, open_cart_value=5.0),
    )
    found = rules.cart_abandoners(frame, AS_OF)
    assert found["person_id"].tolist() == ["left_cart"] and found["value"].tolist() == [42.5]


def test_window_shoppers_deal_seekers_and_repeat_buyers():
    frame = facts(
        person("looker", product_views=5),
        person("few_looks", product_views=2),
        person("looked_and_carted", product_views=9, cart_adds=1),
        person("coupon_fan", orders=2, deal_orders=1, revenue=30.0),
        person("full_price", orders=3, deal_orders=1, revenue=90.0),
    )
    assert names(rules.window_shoppers(frame, AS_OF), "window_shoppers") == ["looker"]
    assert names(rules.deal_seekers(frame, AS_OF), "deal_seekers") == ["coupon_fan"]
    assert names(rules.repeat_buyers(frame, AS_OF), "repeat_buyers") == ["coupon_fan", "full_price"]


def test_new_and_returning_visitors():
    frame = facts(
        person("fresh", first_seen=AS_OF - 2 * DAYS, last_seen=AS_OF - DAYS),
        person("regular", active_days=4, last_seen=AS_OF - 3 * DAYS),
        person("gone", active_days=4, last_seen=AS_OF - 45 * DAYS),
    )
    assert names(rules.new_visitors(frame, AS_OF), "new_visitors") == ["fresh"]
    assert names(rules.returning_visitors(frame, AS_OF), "returning_visitors") == ["regular"]


def test_membership_changes_open_close_and_revalue():
    then = pd.Timestamp("2026-03-01")
    current = pd.DataFrame(
        {"segment": ["a", "a", "b"], "person_id": ["p1", "p2", "p1"], "entered_at": [then] * 3, "value": [1.0, 2, 3]}
    )
    computed = pd.DataFrame({"segment": ["a", "b", "c"], "person_id": ["p1", "p1", "p3"], "value": [1.0, 4, 5]})
    changes = rules.membership_changes(current, computed, AS_OF).set_index(["segment", "person_id"])
    assert changes.loc[("a", "p2"), "change"] == "left" and changes.loc[("a", "p2"), "left_at"] == AS_OF
    assert changes.loc[("a", "p2"), "entered_at"] == then
    assert changes.loc[("c", "p3"), "change"] == "entered" and changes.loc[("c", "p3"), "entered_at"] == AS_OF
    assert changes.loc[("b", "p1"), "change"] == "revalued" and changes.loc[("b", "p1"), "value"] == 4
    assert ("a", "p1") not in changes.index


def test_job_records_entries_and_exits_with_history(warehouse, site):
    sid = site["site_id"]
    t0 = dt.datetime(2026, 3, 1, 10)
    rows = [tracked(sid, t0 + dt.timedelta(minutes=i), "Product Viewed", "anon-w", product_id="p1") for i in range(3)]
    rows += [
        tracked(sid, t0, "Product Added", "anon-c", user_id="u-c", product_id="p1", price=10.0, quantity=2),
        tracked(
            sid, t0 + dt.timedelta(minutes=1), "Product Added", "anon-c", user_id="u-c", product_id="p2", price=5.0
        ),
        order(sid, t0 - dt.timedelta(days=5), "anon-c", "o1", 12.0, user_id="u-c"),
        tracked(sid, t0 + dt.timedelta(days=1), "Page Viewed", "anon-x"),
    ]

    events.insert_events(warehouse, rows)
    first = membership.refresh_site(warehouse, sid)
    assert set(first["change"]) == {"entered"}
    members = store.segment_members(warehouse, sid, "cart_abandoners")
    assert members["person_id"].tolist() == ["u-c"] and members["value"].tolist() == [25.0]
    assert store.segment_members(warehouse, sid, "window_shoppers")["person_id"].tolist() == ["anon-w"]

    # The cart becomes an order (received after the first run): the person leaves the abandoners, the stay
    # is closed, not erased.
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    ordered = order(sid, t0 + dt.timedelta(hours=2), "anon-c", "o2", 25.0, user_id="u-c")
    events.insert_events(warehouse, [{**ordered, "received_at": now}])
    second = membership.refresh_site(warehouse, sid)
    left = second[second["change"] == "left"]
    assert ("cart_abandoners", "u-c") in set(zip(left["segment"], left["person_id"]))
    assert store.segment_members(warehouse, sid, "cart_abandoners").empty
    history = warehouse.query(
        "SELECT entered_at, argMax(left_at, version) AS left_at FROM segment_members WHERE site_id = {site_id:String} "
        "AND person_id = 'u-c' AND segment = 'cart_abandoners' GROUP BY entered_at",
        {"site_id": sid},
    )
    assert len(history) == 1 and history[0]["left_at"].year > 1970
    sizes = {r["segment"]: r["size"] for r in store.segment_sizes(warehouse, sid)}
    assert sizes["repeat_buyers"] == 1 and "cart_abandoners" not in sizes
    assert membership.refresh_site(warehouse, sid).empty
    end = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    trend = store.segment_trend(warehouse, sid, "cart_abandoners", end, days=2)
    assert [r["size"] for r in trend] == [0, 0]
    trend = store.segment_trend(warehouse, sid, "repeat_buyers", end, days=2)
    assert [r["size"] for r in trend] == [0, 1]


def test_membership_step_keeps_open_stays_in_step():
    t1, t2 = pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-02")
    current = pd.DataFrame(
        {"segment": ["a", "a", "c"], "person_id": ["p", "q", "r"], "entered_at": [t1, t1, t1], "value": [1.0, 2.0, 3.0]}
    ).astype({"entered_at": "datetime64[s]"})
    computed = pd.DataFrame(
        {"segment": ["a", "b", "c"], "person_id": ["p", "q", "r"], "value": [5.0, 0.0, 3.0 + 1e-12]}
    )
    changes, after = membership_step(current, computed, t2)
    assert list(changes["change"]) == ["entered", "left", "revalued"]
    # p stays since t1 at its new value, q left a and entered b at t2, r stays at the value stored
    assert after.to_dict("records") == [
        {"segment": "a", "person_id": "p", "entered_at": t1, "value": 5.0},
        {"segment": "b", "person_id": "q", "entered_at": t2, "value": 0.0},
        {"segment": "c", "person_id": "r", "entered_at": t1, "value": 3.0},
    ]
    assert membership_changes(after, computed, t2).empty


def test_first_run_replays_past_days_so_members_have_real_entry_days(warehouse, site):
    sid = site["site_id"]
    latest = dt.datetime(2026, 3, 31, 12)

    events.insert_events(
        warehouse,
        [
            order(sid, latest - dt.timedelta(days=20), "anon-r", "r1", 30.0, user_id="rita"),
            order(sid, latest - dt.timedelta(days=8, hours=1), "anon-r", "r2", 30.0, user_id="rita"),
            tracked(sid, latest, "Page Viewed", "anon-late"),
        ],
    )
    membership.refresh_site(warehouse, sid, lambda _m: None, history_days=30)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    stays = store.open_memberships(warehouse, sid)
    repeat = stays[(stays["segment"] == "repeat_buyers") & (stays["person_id"] == "rita")]
    # a repeat buyer since her second order, 8 days before the latest event: entered 8 days before now
    assert len(repeat) == 1
    days_ago = (now - repeat["entered_at"].iloc[0].to_pydatetime()).total_seconds() / 86400
    assert 7.9 < days_ago < 8.1, days_ago
    trend = store.segment_trend(warehouse, sid, "repeat_buyers", now + dt.timedelta(minutes=1), days=12)
    assert [r["size"] for r in trend] == [0] * 3 + [1] * 9  # the day ending 8 days ago holds her
    # the replay happens once: the next run only records what moved since
    assert membership.refresh_site(warehouse, sid, lambda _m: None, history_days=30).empty


def test_membership_changes_match_a_plain_diff_of_random_stays():
    """The integer-keyed diff against a dictionary diff, on stays where every case occurs."""
    rng = np.random.default_rng(7)
    then, now = pd.Timestamp("2026-03-01"), pd.Timestamp("2026-03-09")
    pairs = [(s, f"p{i}") for s in ("a", "b", "c") for i in range(300)]
    old = {pair: float(rng.integers(0, 3)) for pair in pairs if rng.random() < 0.5}
    new = {pair: float(rng.integers(0, 3)) for pair in pairs if rng.random() < 0.5}
    current = pd.DataFrame(
        [(s, p, then - pd.Timedelta(days=len(p) % 3), v) for (s, p), v in old.items()],
        columns=["segment", "person_id", "entered_at", "value"],
    ).astype({"entered_at": "datetime64[s]"})
    computed = pd.DataFrame([(s, p, v) for (s, p), v in new.items()], columns=["segment", "person_id", "value"])

    changes = membership_changes(current, computed, now)
    got = {(r.segment, r.person_id): (r.change, r.value, r.entered_at) for r in changes.itertuples()}
    entered_at = dict(zip(zip(current["segment"], current["person_id"]), current["entered_at"]))
    expected = {pair: ("entered", v, now) for pair, v in new.items() if pair not in old}
    expected |= {pair: ("left", v, entered_at[pair]) for pair, v in old.items() if pair not in new}
    expected |= {
        pair: ("revalued", new[pair], entered_at[pair]) for pair in old if pair in new and new[pair] != old[pair]
    }
    assert got == expected and {c for c, _, _ in got.values()} == {"entered", "left", "revalued"}

    order = ["change", "segment", "person_id"]
    assert changes[order].equals(changes[order].sort_values(order, ignore_index=True))
    stepped, after = membership_step(current, computed, now)
    pd.testing.assert_frame_equal(stepped, changes)
    assert dict(zip(zip(after["segment"], after["person_id"]), after["value"])) == new
    assert dict(zip(zip(after["segment"], after["person_id"]), after["entered_at"])) == {
        pair: entered_at.get(pair, now) for pair in new
    }
    assert membership_changes(after, computed, now).empty


def test_time_bands_hold_everyone_a_later_judgement_moves():
    """Random people judged at two times: whoever a behaviour rule judges otherwise (in or out, or at
    another value) has a time in a band; the hand-set ones at the edges are in and out as expected."""
    rng = np.random.default_rng(3)
    before, as_of = AS_OF, AS_OF + pd.Timedelta(hours=30)

    def near(n: int) -> pd.Series:
        # Times around every cut of both judgements, to the second.
        return pd.Series(as_of - pd.to_timedelta(rng.integers(0, 40 * 86400, n), unit="s")).astype("datetime64[s]")

    n = 4000
    frame = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "first_seen": near(n),
            "active_days": rng.integers(1, 4, n),
            "product_views": rng.integers(0, 5, n),
            "cart_adds": rng.integers(0, 2, n),
            "orders": 0,
            "revenue": 0.0,
            "deal_orders": 0,
            "first_order_at": NEVER,
            "last_order_at": NEVER,
            "last_cart_at": near(n),
            "open_cart_value": rng.integers(0, 3, n).astype(float),
        }
    )
    frame["last_seen"] = frame["first_seen"] + pd.to_timedelta(rng.integers(0, 86400 * 9, n), unit="s")
    edges = facts(
        person("cart-now-old-enough", cart_adds=1, open_cart_value=5.0, last_cart_at=as_of - pd.Timedelta(hours=1)),
        person("first-seen-week-ago", first_seen=before - 7 * DAYS, last_seen=before - 7 * DAYS),
        person("still-new", first_seen=as_of - 7 * DAYS + pd.Timedelta(seconds=1), last_seen=as_of),
    )
    frame = pd.concat([frame, edges], ignore_index=True)

    def judged(at: pd.Timestamp) -> set:
        members = rules.behaviour_segments(frame, at)
        return set(zip(members["segment"], members["person_id"], members["value"]))

    moved = {person for _, person, _ in judged(before) ^ judged(as_of)}
    in_band = pd.Series(False, index=frame.index)
    for column, first, last in rules.time_bands(before, as_of):
        in_band |= frame[column].between(first, last)
    banded = set(frame.loc[in_band, "person_id"])
    assert len(moved) > 100 and moved <= banded
    assert {"cart-now-old-enough", "first-seen-week-ago"} <= moved
    assert "still-new" not in banded
    # With no time between the judgements, no band holds anyone a rule could move.
    assert all(first == last for _, first, last in rules.time_bands(as_of, as_of))


def test_a_run_judging_who_may_have_moved_leaves_the_stays_a_full_judgement_gives(warehouse, site):
    """A site judged in full, then events arriving over the next day and a half: a login stitching a
    device to a customer, an order, new visitors, a cart, and the site's latest event a day and a half
    later, so that every time-bound rule moves someone who had no event. The next run judges only who
    may have moved, and leaves the open stays exactly as judging everyone would."""
    sid = site["site_id"]
    settings = {"LATE_EVENTS_MINUTES": 60}
    received = dt.datetime(2026, 4, 1, 12)
    start = max(r["timestamp"] for r in shop_rows(sid))
    before = start + dt.timedelta(hours=1)
    rows = shop_rows(sid) + [
        tracked(sid, before - dt.timedelta(days=6, hours=20), "Product Viewed", "newbie", product_id="p1"),
        tracked(sid, before - dt.timedelta(minutes=30), "Product Added", "carter", product_id="p2", price=9.0),
        tracked(sid, before - dt.timedelta(days=29, hours=20), "Product Added", "old-cart", product_id="p1", price=4.0),
        tracked(sid, before - dt.timedelta(days=40), "Page Viewed", "returner"),
        tracked(sid, before - dt.timedelta(days=29, hours=22), "Page Viewed", "returner"),
        tracked(sid, before, "Page Viewed", "anon-last"),
    ]
    events.insert_events(warehouse, [{**r, "received_at": received} for r in rows])
    stitching.stitch_site(warehouse, sid)
    first = membership.refresh_site(warehouse, sid, lambda _m: None, config=settings)
    assert {("new_visitors", "newbie"), ("cart_abandoners", "old-cart"), ("returning_visitors", "returner")} <= set(
        zip(first["segment"], first["person_id"])
    )

    later = before + dt.timedelta(days=1, hours=12)
    more = [
        tracked(sid, later - dt.timedelta(hours=5), "Product Viewed", "anon4", product_id="p2"),
        tracked(sid, later - dt.timedelta(hours=4), "", "anon4", user_id="user3", type="identify"),
        order(sid, later - dt.timedelta(hours=3), "anon4", "o-new", 60.0, user_id="user3"),
        tracked(sid, later - dt.timedelta(hours=2), "Product Viewed", "fresh", product_id="p3"),
        tracked(sid, later - dt.timedelta(hours=2), "Product Viewed", "fresh", product_id="p1"),
        tracked(sid, later - dt.timedelta(hours=2), "Product Viewed", "fresh", product_id="p2"),
        tracked(sid, later, "Page Viewed", "anon-last"),
    ]
    events.insert_events(warehouse, [{**r, "received_at": received + dt.timedelta(hours=2)} for r in more])
    stitching.stitch_site(warehouse, sid)
    said = []
    second = membership.refresh_site(warehouse, sid, said.append, config=settings)

    judging = [m for m in said if "judging" in m]
    everyone = len(membership.person_facts(warehouse, sid))
    assert judging and int(judging[0].split("judging ")[1].split()[0].replace(",", "")) < everyone
    moves = set(zip(second["change"], second["segment"], second["person_id"]))
    assert {
        ("left", "new_visitors", "newbie"),
        ("entered", "cart_abandoners", "carter"),
        ("left", "cart_abandoners", "old-cart"),
        ("left", "returning_visitors", "returner"),
        ("entered", "window_shoppers", "fresh"),
    } <= moves

    as_of = pd.Timestamp(store.site_as_of(warehouse, sid))
    everyone_judged = pd.concat(
        [membership.built_in_members(warehouse, sid, as_of), membership.custom_members(warehouse, sid)],
        ignore_index=True,
    )
    left_over = membership_changes(store.open_memberships(warehouse, sid), everyone_judged, pd.Timestamp.now())
    assert left_over.empty, left_over.to_dict("records")
