"""Sessionization in ClickHouse, on both backends: splits, outcomes, increments."""

from recommender.sessions import sessionize_site
from tests.factories import event, load, page
from warehouse import sessions


def live(warehouse, site_id, visitor="a1"):
    return sorted(sessions.visits(warehouse, site_id, [visitor]), key=lambda v: v["started_at"])


def test_inactivity_and_campaign_split_visits(warehouse, site):
    sid = site["site_id"]
    load(
        warehouse,
        [
            page(sid, 0, path="/home", referrer="https://www.google.com/search?q=x", user_agent="Mozilla (iPhone)"),
            event(sid, 1, product_id="p1"),
            event(sid, 2, event="Product Added", product_id="p1", price=10.0, quantity=2),
            page(sid, 40, path="/again"),  # 38 minutes later: a new visit
            page(sid, 41, path="/promo", utm_source="news", utm_campaign="spring"),  # a campaign: new visit
            page(sid, 42, path="/next"),
            event(sid, 43, event="Order Completed", order_id="o1", revenue=25.0, user_id="u1"),
        ],
    )
    sessionize_site(warehouse, sid, timeout_minutes=30)
    visits = live(warehouse, sid)
    assert [v["landing_page"] for v in visits] == ["/home", "/again", "/promo"]
    first, second, third = visits
    assert first["source"] == "www.google.com" and first["device"] == "mobile"
    assert first["products_viewed"] == ["p1"] and first["cart_adds"] == 1 and first["cart_value"] == 20.0
    assert first["duration_seconds"] == 120 and first["orders"] == 0
    assert second["source"] == "direct" and second["pageviews"] == 1
    assert third["source"] == "news" and third["utm_campaign"] == "spring"
    assert third["pages"] == ["/promo", "/next"] and third["orders"] == 1 and third["revenue"] == 25.0
    assert third["order_ids"] == ["o1"] and third["user_ids"] == ["u1"]


def test_incremental_run_extends_open_visit_and_merges_on_late_events(warehouse, site):
    sid = site["site_id"]
    load(warehouse, [page(sid, 0, path="/a"), page(sid, 10, path="/b"), page(sid, 50, path="/c")])
    assert sessionize_site(warehouse, sid)["visits"] == 2
    # New events: one extends the open visit, one arrives late and fills the gap.
    later = page(sid, 0, path="/x").get("received_at")
    load(
        warehouse,
        [
            page(sid, 55, path="/d", received=later.replace(year=2027)),
            page(sid, 30, path="/late", received=later.replace(year=2027)),
        ],
    )
    result = sessionize_site(warehouse, sid)
    visits = live(warehouse, sid)
    assert [v["pages"] for v in visits] == [["/a", "/b", "/late", "/c", "/d"]]
    assert result["visits"] == 1
    # Nothing new: nothing recomputed, same visits.
    assert sessionize_site(warehouse, sid, late_minutes=0)["visits"] == 0
    assert live(warehouse, sid) == visits


def test_server_side_events_without_anonymous_id_get_a_user_visitor(warehouse, site):
    sid = site["site_id"]
    load(warehouse, [event(sid, 0, anon="", user_id="u9", event="Order Completed", order_id="o9", revenue=5.0)])
    sessionize_site(warehouse, sid)
    (visit,) = live(warehouse, sid, "user:u9")
    assert visit["orders"] == 1 and visit["device"] == "unknown"


def test_full_run_retires_visits_it_no_longer_finds(warehouse, site):
    sid = site["site_id"]
    load(warehouse, [page(sid, 0, path="/a"), page(sid, 40, path="/b"), page(sid, 41, path="/c")])
    assert sessionize_site(warehouse, sid, timeout_minutes=30)["visits"] == 2
    # A longer timeout folds the two visits into one; the second start must not linger.
    assert sessionize_site(warehouse, sid, timeout_minutes=60, full=True)["visits"] == 1
    assert [v["pages"] for v in live(warehouse, sid)] == [["/a", "/b", "/c"]]
