"""Person facts read from the folded pairs of ids are those read from every event, on both backends.

A shop's events are folded in full, then more arrive: new visitors, new
events of known ids, a login that stitches a device to a user, a claimed
user id, an event received late and a bot. After the refold the facts (and
the segments judged on them) are exactly those gathered from scratch.
"""

import datetime as dt
import time

import pandas as pd

from mining import membership, stitching
from mining.retention import run_retention
from tests.support.config import config
from tests.support.factories import order, shop_rows, tracked
from warehouse.queries import erasure, events, people, visit_items
from warehouse.queries import segments as store

RECEIVED = dt.datetime(2026, 4, 1, 12, 0)
LATER = RECEIVED + dt.timedelta(hours=2)
ORDER_COLUMNS = ["person_id", "orders", "revenue", "deal_orders", "first_order_at", "last_order_at"]


def received(rows: list[dict], at: dt.datetime) -> list[dict]:
    return [{**r, "received_at": at} for r in rows]


def more_rows(sid: str) -> list[dict]:
    """Events after the first fold: known ids and new ones, a stitching login, a claimed id, a bot."""
    day = dt.datetime(2026, 3, 31, 10, 0)
    minute = dt.timedelta(minutes=1)
    return [
        tracked(sid, day, "Product Viewed", "anon1", product_id="p1", price=12.0),
        tracked(sid, day + minute, "Product Added", "anon1", product_id="p1", price=12.0, quantity=2),
        order(sid, day + 2 * minute, "anon0", "o-new", 40.0, user_id="user0"),
        tracked(sid, day + 3 * minute, "Product Added", "anon4", product_id="p2", price=7.5, quantity=1),
        tracked(sid, day + 4 * minute, "", "anon4", user_id="user3", type="identify"),  # anon4 logs in as user3
        order(sid, day + 5 * minute, "anon4", "o-late", 25.0, user_id="user3", properties={"coupon": "SPRING"}),
        tracked(sid, day + 6 * minute, "Product Viewed", "fresh", product_id="p3"),
        tracked(sid, day + 7 * minute, "Product Added", "fresh", product_id="p3", price=3.25, quantity=4),
        tracked(sid, day + 8 * minute, "Checkout Started", "anon2", user_id="user0", flags=["claimed"]),
        {**tracked(sid, day + 9 * minute, "Product Viewed", "anon5"), "is_bot": 1},
    ]


def facts(warehouse, sid: str, generation=None, orders_only=False, parts=1) -> pd.DataFrame:
    frame = membership.person_facts(warehouse, sid, orders_only=orders_only, parts=parts, generation=generation)
    if orders_only:
        frame = frame[ORDER_COLUMNS]
    return frame.sort_values("person_id").reset_index(drop=True)


def assert_same_facts(warehouse, sid: str, generation: int) -> None:
    for parts in (1, 3):
        pd.testing.assert_frame_equal(facts(warehouse, sid, generation, parts=parts), facts(warehouse, sid))
        pd.testing.assert_frame_equal(
            facts(warehouse, sid, generation, True, parts), facts(warehouse, sid, orders_only=True)
        )


def members(warehouse, sid: str, generation=None) -> pd.DataFrame:
    as_of = pd.Timestamp(store.site_as_of(warehouse, sid))
    frame = membership.built_in_members(warehouse, sid, as_of, parts=2, generation=generation)
    return frame.sort_values(["segment", "person_id"]).reset_index(drop=True)


def test_refolded_facts_are_those_read_from_every_event(warehouse, site):
    sid = site["site_id"]
    settings = config(LATE_EVENTS_MINUTES=60)
    events.insert_events(warehouse, received(shop_rows(sid), RECEIVED))
    generation = membership.fold_facts(warehouse, sid, settings, lambda _: None)
    assert generation is not None
    assert_same_facts(warehouse, sid, generation)
    # Nothing received since: no refold (the next one goes back LATE_EVENTS_MINUTES before the mark).
    mark = visit_items.mark(warehouse, sid, job=store.FOLD_JOB)
    assert membership.fold_facts(warehouse, sid, settings, lambda _: None) == generation
    assert visit_items.mark(warehouse, sid, job=store.FOLD_JOB) == mark

    rows = more_rows(sid)
    late = rows[2]  # received before the last fold's high water, inserted after it
    events.insert_events(warehouse, received(rows[:2] + rows[3:], LATER) + received([late], RECEIVED))
    stitching.stitch_site(warehouse, sid)
    assert membership.fold_facts(warehouse, sid, settings, lambda _: None) == generation
    assert_same_facts(warehouse, sid, generation)
    pd.testing.assert_frame_equal(members(warehouse, sid, generation), members(warehouse, sid))

    buyer = facts(warehouse, sid, generation).set_index("person_id")
    assert "fresh" in buyer.index and buyer.loc["fresh", "open_cart_value"] == 13.0

    again = membership.fold_facts(warehouse, sid, {**settings, "full": time.time_ns()}, lambda _: None)
    assert again != generation
    assert_same_facts(warehouse, sid, again)


def test_facts_from_a_copy_by_person_are_those_read_from_every_event(warehouse, site):
    """The segments' backfill reads the events' facts by day, a range of people's buckets a part: each part
    holds every event of its people (a device stitched to a user included), up to any of the days (the
    oldest with every earlier event), and the copies are dropped after."""
    sid = site["site_id"]
    events.insert_events(warehouse, received(shop_rows(sid) + more_rows(sid), RECEIVED))
    stitching.stitch_site(warehouse, sid)
    as_of = pd.Timestamp(store.site_as_of(warehouse, sid))
    checked = 0
    with store.copied_facts(warehouse, sid, time.time_ns(), as_of.to_pydatetime(), 3, parts=2) as run:
        assert warehouse.scalar("SELECT count() FROM fact_rows WHERE site_id = {s:String}", {"s": sid}) == 0
        for until in (as_of - pd.Timedelta(days=back) for back in (3, 2, 1, 0)):
            whole = store.person_facts(warehouse, sid, until.to_pydatetime()).sort_values("person_id")
            copied = pd.concat(
                [store.person_facts(warehouse, sid, until.to_pydatetime(), False, p, 3, run=run) for p in range(3)]
            ).sort_values("person_id")
            assert any(person.startswith("p_") for person in copied["person_id"])  # stitched people
            pd.testing.assert_frame_equal(copied.reset_index(drop=True), whole.reset_index(drop=True))
            checked += len(whole)
    assert checked > 10
    assert warehouse.scalar("SELECT count() FROM fact_days WHERE site_id = {s:String}", {"s": sid}) == 0


def test_site_without_events_has_no_fold(warehouse, site):
    assert membership.fold_facts(warehouse, site["site_id"], config(), lambda _: None) is None


def pair_rows(warehouse, sid: str) -> list[dict]:
    return warehouse.query(
        "SELECT anonymous_id, user_id, generation FROM id_pair_facts WHERE site_id = {s:String}", {"s": sid}
    )


def test_erasure_deletes_the_folded_facts_of_the_person(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, received(shop_rows(sid), RECEIVED))
    stitching.stitch_site(warehouse, sid)
    membership.fold_facts(warehouse, sid, config(), lambda _: None)
    person = people.resolve(warehouse, sid, "user:user0")
    assert any(r["user_id"] == "user0" for r in pair_rows(warehouse, sid))
    erasure.erase_person(warehouse, sid, person)
    left = pair_rows(warehouse, sid)
    assert left and not any(r["user_id"] == "user0" or r["anonymous_id"] == "anon0" for r in left)


def test_retention_keeps_the_current_generation_of_folded_facts(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, received(shop_rows(sid)[:20], RECEIVED))
    first = membership.fold_facts(warehouse, sid, {"full": time.time_ns()}, lambda _: None)
    current = membership.fold_facts(warehouse, sid, {"full": time.time_ns()}, lambda _: None)
    assert first != current
    run_retention(warehouse, config(), lambda _: None)
    deadline = time.monotonic() + 30
    while {r["generation"] for r in pair_rows(warehouse, sid)} != {current} and time.monotonic() < deadline:
        time.sleep(0.3)
    assert {r["generation"] for r in pair_rows(warehouse, sid)} == {current}


def test_pairs_with_events_past_the_retention_are_refolded(warehouse, site):
    """Once a pair's oldest events are deleted, its folded facts are those of the events left."""
    sid = site["site_id"]
    old, recent = dt.datetime(1971, 6, 1, 12), dt.datetime(2026, 3, 1, 12)
    rows = [
        order(sid, old, "keeper", "o-old", 30.0),
        tracked(sid, old, "Product Viewed", "keeper", product_id="p1"),
        tracked(sid, recent, "Product Added", "keeper", product_id="p2", price=4.0, quantity=1),
        tracked(sid, recent, "Product Viewed", "other", product_id="p1"),
    ]
    events.insert_events(warehouse, received(rows, RECEIVED))
    days = (dt.date.today() - dt.date(1975, 1, 1)).days
    settings = config(RETENTION_DAYS=days, LATE_EVENTS_MINUTES=0)  # no event is received again
    generation = membership.fold_facts(warehouse, sid, settings, lambda _: None)
    assert facts(warehouse, sid, generation).set_index("person_id").loc["keeper", "orders"] == 1
    where = "site_id = {s:String} AND timestamp < {t:DateTime('UTC')}"
    erasure.delete_rows(warehouse, "events", where, {"s": sid, "t": dt.datetime(1975, 1, 1)})
    assert membership.fold_facts(warehouse, sid, settings, lambda _: None) == generation
    assert_same_facts(warehouse, sid, generation)
    assert facts(warehouse, sid, generation).set_index("person_id").loc["keeper", "orders"] == 0
