"""The profile and the Visitors list read the events the jobs have not read yet: on both backends."""

import datetime as dt

from mining import stitching
from mining.sessions import sessionize_site
from tests.support.factories import load, row
from warehouse.queries import people


def at(minutes: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(minutes=minutes)


def shopping(sid: str, anon: str, user: str, start: float) -> list[dict]:
    """A browser that looks, signs in and orders two lamps and a mug, a few seconds apart."""
    when = lambda s: at(start) + dt.timedelta(seconds=s)  # noqa: E731
    return [
        row(sid, when(0), type="page", event="", anonymous_id=anon, path="/store/", title="Home"),
        row(sid, when(5), anonymous_id=anon, product_id="lamp", product_name="Rabbit Night Light", price=4.0),
        row(sid, when(9), type="page", event="", anonymous_id=anon, path="/store/product/lamp"),
        row(sid, when(20), type="identify", event="", anonymous_id=anon, user_id=user),
        row(
            sid,
            when(35),
            event="Order Completed",
            anonymous_id=anon,
            user_id=user,
            order_id="o-1",
            revenue=11.0,
            currency="GBP",
            item_ids=["lamp", "mug"],
            item_prices=[4.0, 3.0],
            item_quantities=[2, 1],
        ),
    ]


def test_a_visit_sign_in_and_order_show_before_any_job_runs(warehouse, site):
    sid = site["site_id"]
    load(warehouse, shopping(sid, "fresh-browser", "cust-7", start=2))
    person = people.resolve(warehouse, sid, "user:cust-7")
    assert person
    profile = people.profile(warehouse, sid, person, hint="user:cust-7")
    by_id = {r["identity"]: r for r in profile["identities"]}
    assert by_id["anon:fresh-browser"]["reason"] == "identify" and by_id["anon:fresh-browser"]["live"]
    [visit] = profile["visits"]
    assert (visit["pageviews"], visit["duration_seconds"], visit["orders"]) == (2, 35, 1)
    assert [a["path"] or a["event"] for a in visit["actions"]][:3] == [
        "/store/",
        "Product Viewed",
        "/store/product/lamp",
    ]
    [order] = profile["orders"]
    assert [(i["name"], i["quantity"], i["price"]) for i in order["items"]] == [
        ("Rabbit Night Light", 2, 4.0),
        ("mug", 1, 3.0),
    ]
    assert profile["totals"]["revenue"] == 11.0
    listed = people.recent_visitors(warehouse, sid)
    assert [(r["visitor_id"], r["visits"], r["order_count"]) for r in listed] == [("fresh-browser", 1, 1)]
    assert people.visitor_count(warehouse, sid, buyers_only=True) == 1
    assert [r["identity"] for r in people.search(warehouse, sid, "o-1")] == ["anon:fresh-browser"]


def test_the_tail_shows_what_the_jobs_then_write(warehouse, site):
    sid = site["site_id"]
    load(warehouse, shopping(sid, "b1", "cust-8", start=300))
    sessionize_site(warehouse, sid)
    stitching.stitch_site(warehouse, sid)
    load(warehouse, shopping(sid, "b1", "cust-8", start=250)[:3])  # a second visit, after the jobs
    person = people.resolve(warehouse, sid, "anon:b1")
    live = people.profile(warehouse, sid, person)
    assert [v["pageviews"] for v in live["visits"]] == [2, 2]
    sessionize_site(warehouse, sid)
    stitching.stitch_site(warehouse, sid)
    after = people.profile(warehouse, sid, person)
    keys = ["started_at", "ended_at", "pageviews", "orders", "pages", "source", "device"]
    assert [{k: v[k] for k in keys} for v in after["visits"]] == [{k: v[k] for k in keys} for v in live["visits"]]
    listed = people.recent_visitors(warehouse, sid)
    assert [(r["visitor_id"], r["visits"], r["order_count"]) for r in listed] == [("b1", 2, 1)]


def test_a_login_after_an_unmerge_does_not_join_the_browser_again(warehouse, site):
    sid = site["site_id"]
    load(warehouse, shopping(sid, "own-pc", "cust-9", start=300) + shopping(sid, "shared-pc", "", start=290)[:3])
    sessionize_site(warehouse, sid)
    stitching.stitch_site(warehouse, sid)
    stitching.merge(warehouse, sid, "user:cust-9", "anon:shared-pc", "owner@shop.example")
    stitching.unmerge(warehouse, sid, "anon:shared-pc", "owner@shop.example", "a shared computer")
    load(warehouse, shopping(sid, "shared-pc", "cust-9", start=200)[3:4])  # signs in there, before the job
    person = people.resolve(warehouse, sid, "user:cust-9")
    shown = {r["identity"] for r in people.profile(warehouse, sid, person)["identities"]}
    assert shown == {"anon:own-pc", "user:cust-9"}
    stitching.stitch_site(warehouse, sid)  # the job agrees
    assert people.resolve(warehouse, sid, "anon:shared-pc") != person
