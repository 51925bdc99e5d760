"""The profile's pure parts on small hand-checked inputs: live identities, merged visits, timeline, line items."""

import datetime as dt

from warehouse.queries.people import totals_of, with_tail
from warehouse.queries.timeline import attach_events, grow, line_items, merge_visits, names_in

T = dt.datetime(2026, 5, 1, 12, 0, 0)


def at(seconds: int) -> dt.datetime:
    return T + dt.timedelta(seconds=seconds)


def link(a: str, b: str, seconds: int, reason: str = "login") -> dict:
    return {"a": a, "b": b, "reason": reason, "message_id": f"m{seconds}", "at": at(seconds)}


def test_grow_adds_what_links_join_but_never_a_second_customer():
    rows = [{"identity": "anon:phone"}]
    links = [
        link("anon:laptop", "user:ann", 30),  # joins only once user:ann is in
        link("anon:phone", "user:ann", 10, "identify"),
        link("anon:phone", "user:bob", 20),  # a second known customer: refused
        link("anon:stranger", "user:zed", 5),  # touches nobody here
    ]
    added = grow(rows, links, "p_1")
    assert [(r["identity"], r["via"], r["reason"]) for r in added] == [
        ("user:ann", "anon:phone", "identify"),
        ("anon:laptop", "user:ann", "login"),
    ]
    assert all(r["live"] and r["person_id"] == "p_1" for r in added)
    assert grow([{"identity": "user:ann"}], [link("anon:x", "user:bob", 1)], "p_1") == []
    # An operator took the laptop out of Ann: a new login does not put it back.
    blocked = {frozenset(("anon:laptop", "user:ann"))}
    assert [r["identity"] for r in grow(rows, links, "p_1", blocked)] == ["user:ann"]


def visit(visitor: str, start: int, end: int, **extra) -> dict:
    return {"visitor_id": visitor, "started_at": at(start), "ended_at": at(end), **extra}


def test_merge_visits_replaces_stored_visits_from_each_touched_visitors_boundary():
    stored = [visit("a", 0, 60, v="old"), visit("a", 4000, 4100, v="open"), visit("b", 100, 200, v="b")]
    fresh = [visit("a", 4000, 4500, v="grown")]
    merged = merge_visits(stored, fresh, {"a": at(4000)})
    assert [v["v"] for v in merged] == ["grown", "b", "old"]
    # A visitor the jobs never saw: everything from the epoch is the tail's.
    assert [v["v"] for v in merge_visits([], [visit("c", 5, 9, v="new")], {"c": dt.datetime(1970, 1, 1)})] == ["new"]


def event(visitor: str, second: int, kind: str = "page", name: str = "", **extra) -> dict:
    base = {"visitor_id": visitor, "timestamp": at(second), "timestamp_ms": 0, "type": kind, "event": name}
    return {**base, "user_agent": "", "product_id": "", "product_name": "", **extra}


def test_events_go_to_their_visit_in_order_with_the_visits_agent():
    visits = [visit("a", 100, 135), visit("a", 0, 10), visit("b", 100, 135)]
    events = [
        event("a", 135, "track", "Order Completed"),
        event("a", 120, "track", "Page Engagement"),  # noise, left out
        event("a", 100, user_agent="Firefox"),
        event("a", 5),
        event("b", 50),  # before b's visit: not in it
    ]
    shown = attach_events(visits, events)
    assert [[e["event"] or e["type"] for e in v["actions"]] for v in shown] == [
        ["page", "Order Completed"],
        ["page"],
        [],
    ]
    assert [v["user_agent"] for v in shown] == ["Firefox", "", ""]


def test_line_items_name_products_and_keep_one_row_per_order():
    order = {
        "message_id": "m2",
        "order_id": "o-1",
        "timestamp": at(0),
        "revenue": 11.0,
        "currency": "GBP",
        "item_ids": ["lamp", "mug", "sock"],
        "item_prices": [4.0, 3.0],
        "item_quantities": [2, 0],
    }
    names = {**names_in([event("a", 1, product_id="mug", product_name="Mug (own event)")]), "lamp": "Rabbit Lamp"}
    [shown] = line_items([order, {**order, "message_id": "m1"}], names)
    assert [(i["name"], i["quantity"], i["price"]) for i in shown["items"]] == [
        ("Rabbit Lamp", 2, 4.0),
        ("Mug (own event)", 1, 3.0),
        ("sock", 1, 0.0),
    ]


def test_totals_of_many_visits_take_the_tails_visits_in_place_of_those_recomputed():
    def full(v, **extra):
        outcome = {"orders": 0, "revenue": 0.0, "cart_adds": 0, "cart_value": 0.0, "pageviews": 1}
        return {**v, **outcome, "source": "direct", "device": "desktop", **extra}

    old, open_visit = full(visit("a", 0, 60)), full(visit("a", 4000, 4100), pageviews=2)
    grown = full(visit("a", 4000, 4500), pageviews=5, orders=1, revenue=9.5, source="mail")
    stored = totals_of([old, open_visit])
    summed = with_tail(stored, [open_visit], [grown])
    assert summed == totals_of([old, grown])
    assert (summed["visits"], summed["pageviews"], summed["orders"], summed["last_source"]) == (2, 6, 1, "mail")
    assert with_tail(stored, [], []) is stored
