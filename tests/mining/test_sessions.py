"""Sessionization in ClickHouse, on both backends: splits, outcomes, increments."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mining.sessions import sessionize_site
from tests.conftest import new_site
from tests.support.factories import event, load, page
from warehouse.queries import sessions


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


def test_incremental_run_remembers_the_campaign_and_device_before_its_boundary(warehouse, site):
    """A run recomputing from the visit at minute 54 still knows the campaign and browser seen at minute 0."""
    sid = site["site_id"]
    phone, desktop = "Mozilla/5.0 (iPhone)", "Mozilla/5.0 (X11; Linux)"
    load(warehouse, [page(sid, 0, path="/news", utm_source="news", utm_campaign="spring", user_agent=phone),
                     page(sid, 54, path="/back", user_agent=desktop)])  # fmt: skip
    sessionize_site(warehouse, sid)
    later = dt.datetime(2027, 1, 1)
    # The same campaign again: not a new visit, since it is the last campaign seen.
    load(warehouse, [page(sid, 64, path="/again", utm_source="news", utm_campaign="spring", user_agent=desktop,
                          received=later)])  # fmt: skip
    sessionize_site(warehouse, sid, late_minutes=0)
    visits = live(warehouse, sid)
    assert [v["pages"] for v in visits] == [["/news"], ["/back", "/again"]]
    assert [v["device"] for v in visits] == ["mobile", "mobile"]


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


def comparable(warehouse, site_id, visitors):
    """Live visits as plain tuples; arrays whose order the query does not fix are sorted."""
    return sorted(
        (v["visitor_id"], v["started_at"], v["ended_at"], v["events"], v["pageviews"], v["landing_page"],
         v["utm_source"], v["utm_campaign"], v["source"], v["device"], tuple(v["pages"]),
         tuple(sorted(v["products_viewed"])), v["cart_adds"], v["orders"], v["revenue"], tuple(sorted(v["order_ids"])))
        for v in sessions.visits(warehouse, site_id, visitors, limit=10_000)
    )  # fmt: skip


VISITORS = ("a1", "a2", "a3")
_event = st.tuples(
    st.sampled_from(VISITORS),
    st.integers(0, 400),  # minute: gaps both under and over the 30-minute timeout
    st.sampled_from(["page", "view", "cart", "order"]),
    st.sampled_from([None, None, "news", "mail"]),  # a campaign starts a visit
    st.integers(0, 2),  # the run that first sees it: arrival order is not time order
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_event, min_size=1, max_size=25, unique_by=lambda e: (e[0], e[1])))
def test_incremental_runs_end_where_a_full_run_does(warehouse, drawn):
    """Events arriving over three runs, late ones included, give the visits of one run over everything."""
    sid = new_site(warehouse)["site_id"]
    received = dt.datetime(2027, 1, 1)
    for run in range(3):
        rows = []
        for anon, minute, kind, campaign, arrives in drawn:
            if arrives != run:
                continue
            agent = "Mozilla/5.0 (iPhone)" if minute % 2 else "Mozilla/5.0 (X11; Linux)"
            at = {"anon": anon, "received": received + dt.timedelta(days=run), "user_agent": agent}
            if campaign:
                at.update(utm_source=campaign, utm_campaign="c-" + campaign)
            if kind == "page":
                rows.append(page(sid, minute, path=f"/p{minute}", **at))
            elif kind == "view":
                rows.append(event(sid, minute, product_id=f"p{minute % 7}", **at))
            elif kind == "cart":
                rows.append(event(sid, minute, event="Product Added", product_id="p1", price=3.0, **at))
            else:
                rows.append(event(sid, minute, event="Order Completed", order_id=f"o{minute}", revenue=9.0, **at))
        if rows:
            load(warehouse, rows)
        sessionize_site(warehouse, sid, late_minutes=0)
    incremental = comparable(warehouse, sid, list(VISITORS))
    sessionize_site(warehouse, sid, full=True)
    assert incremental == comparable(warehouse, sid, list(VISITORS))


def test_full_run_in_parts_writes_the_same_visits(warehouse):
    """A full run cut by a hash of the visitor gives the visits one pass gives, and leaves no copy of the events."""
    found = {}
    for parts in (1, 3):
        sid = new_site(warehouse)["site_id"]
        rows = []
        for n in range(12):
            rows += [page(sid, m, anon=f"v{n}", path=f"/{m}") for m in (0, 5, 50 + n, 52 + n)]
        load(warehouse, rows)
        upto = sessions.event_window(warehouse, sid)
        sessions.sessionize(warehouse, sid, sessions.EPOCH, upto, 30, version=1, parts=parts)
        visits = sessions.visits(warehouse, sid, [f"v{n}" for n in range(12)], limit=1000)
        found[parts] = sorted((v["visitor_id"], v["started_at"], v["events"], tuple(v["pages"])) for v in visits)
        assert warehouse.scalar("SELECT count() FROM visit_rows WHERE site_id = {s:String}", {"s": sid}) == 0
    assert len(found[1]) == 24
    assert found[3] == found[1]
