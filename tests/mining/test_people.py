"""The profile, search, erasure, export and the collector's blocklist, on both backends."""

import pandas as pd
import pytest

import collector
from collector.loader import Loader
from mining import jobs, stitching
from mining.sessions import sessionize_site
from tests.support.config import only
from tests.support.factories import event, load, page
from warehouse.queries import erasure, people
from warehouse.queries import recommendations as rec_store


def shop(warehouse, sid):
    """Alice: two devices, a login, an abandoned cart, an order, feedback. Bob: one visit."""
    load(
        warehouse,
        [
            page(
                sid,
                0,
                anon="laptop",
                path="/",
                referrer="https://search.example/?q=mugs",
                user_agent="Mozilla/5.0 (X11)",
            ),
            event(sid, 1, anon="laptop", product_id="mug", price=12.0),
            event(sid, 2, anon="laptop", event="Product Added", product_id="mug", price=12.0, quantity=2),
            page(
                sid,
                600,
                anon="phone",
                path="/sale",
                utm_source="newsletter",
                utm_campaign="may",
                user_agent="Mozilla/5.0 (iPhone; Mobile)",
            ),
            event(
                sid,
                601,
                anon="phone",
                type="identify",
                event="",
                user_id="alice",
                traits={"email": "alice@example.com"},
            ),
            event(sid, 602, anon="phone", event="Order Completed", user_id="alice", order_id="A-1", revenue=30.0),
            event(sid, 603, anon="phone", event="Feedback Submitted", score=5.0, comment="great"),
            event(sid, 700, anon="laptop", type="identify", event="", user_id="alice", user_agent="Mozilla/5.0 (X11)"),
            page(sid, 5, anon="bob-pc", path="/"),
        ],
    )
    sessionize_site(warehouse, sid)
    stitching.stitch_site(warehouse, sid)


def test_profile_gathers_devices_visits_orders_carts_and_feedback(warehouse, site):
    sid = site["site_id"]
    shop(warehouse, sid)
    person = people.resolve(warehouse, sid, "alice@example.com")
    assert person == people.resolve(warehouse, sid, "anon:laptop") == people.resolve(warehouse, sid, "alice")
    profile = people.profile(warehouse, sid, person)
    assert {r["identity"] for r in profile["identities"]} >= {"anon:laptop", "anon:phone", "user:alice"}
    totals = profile["totals"]
    assert (totals["visits"], totals["orders"], totals["revenue"], totals["average_order"]) == (3, 1, 30.0, 30.0)
    assert (totals["abandoned_carts"], totals["abandoned_value"]) == (1, 24.0)
    assert totals["first_source"] == "search.example" and totals["last_source"] == "direct"
    assert profile["devices"] == ["desktop", "mobile"]
    assert [o["order_ids"] for o in profile["orders"]] == [["A-1"]]
    assert [(f["score"], f["comment"]) for f in profile["feedback"]] == [(5.0, "great")]
    assert [r["person_id"] for r in people.search(warehouse, sid, "A-1")] == [person]
    assert [r["person_id"] for r in people.search(warehouse, sid, "alice@example.com")] == [person]
    lone = people.resolve(warehouse, sid, "anon:bob-pc")
    assert lone and lone != person
    assert people.profile(warehouse, sid, lone, hint="anon:bob-pc")["totals"]["visits"] == 1
    assert {r["visitor_id"] for r in people.search(warehouse, sid, "")} == {"laptop", "phone", "bob-pc"}


@pytest.mark.slow
def test_job_results_are_read_under_the_keys_the_jobs_file_people_by(warehouse, site):
    """Alice is stitched, so the jobs file her under her person id; Bob never
    logged in, so they file him under his raw anonymous id."""
    sid = site["site_id"]
    load(warehouse, [event(sid, 300 + n, anon="bob-pc", product_id=f"p{n}") for n in range(3)])
    shop(warehouse, sid)
    quiet = lambda _message: None  # noqa: E731
    jobs.run_scores(warehouse, only(sid), progress=quiet)
    jobs.run_segments(warehouse, only(sid), progress=quiet)
    alice = people.resolve(warehouse, sid, "alice")
    items = lambda rows: pd.DataFrame(rows, columns=["site_id", "person_id", "item_id", "score"])  # noqa: E731
    rec_store.write_model(warehouse, "rec_person_items", "person", items([[sid, alice, "old", 9.0]]), 1)
    latest = [[sid, alice, "teapot", 2.0], [sid, alice, "spoon", 1.0], [sid, "bob-pc", "kettle", 1.0],
              [sid, "someone-else", "toaster", 5.0]]  # fmt: skip
    rec_store.write_model(warehouse, "rec_person_items", "person", items(latest), 2)
    rec_store.write_products(warehouse, pd.DataFrame(
        {"site_id": [sid], "product_id": ["teapot"], "name": ["Blue teapot"], "category": [""], "price": [20.0],
         "out_of_stock": [0]}))  # fmt: skip

    hers = people.job_results(warehouse, sid, alice, people.identities(warehouse, sid, alice))
    # The shop's whole history is one day: everyone in it is still new.
    assert [m["segment"] for m in hers["segments"]] == ["champions", "new_visitors"]  # the site's only buyer
    assert (hers["scores"]["orders"], hers["scores"]["historic_value"]) == (1, 30.0)
    assert hers["scores"]["predicted_value"] is None  # one buyer is too few for the model
    assert [(r["item_id"], r["name"]) for r in hers["recommendations"]] == [("teapot", "Blue teapot"), ("spoon", "")]

    bob = people.resolve(warehouse, sid, "anon:bob-pc")
    his = people.job_results(warehouse, sid, bob, people.identities(warehouse, sid, bob, hint="anon:bob-pc"))
    assert [m["segment"] for m in his["segments"]] == ["new_visitors", "window_shoppers"]
    assert his["scores"] == {}  # not a buyer
    assert [r["item_id"] for r in his["recommendations"]] == ["kettle"]


def test_erasure_removes_every_row_and_export_lists_them_first(warehouse, site):
    sid = site["site_id"]
    shop(warehouse, sid)
    person = people.resolve(warehouse, sid, "alice")
    exported = list(erasure.export_person(warehouse, sid, person))
    tables = {t for t, _ in exported}
    assert {"events", "sessions", "identity_map", "identity_links"} <= tables
    assert sum(1 for t, _ in exported if t == "events") == 8
    result = erasure.erase_person(warehouse, sid, person)
    assert result["rows"] == len(exported)
    assert list(erasure.export_person(warehouse, sid, person, hint="user:alice")) == []
    remaining = warehouse.query("SELECT anonymous_id FROM events WHERE site_id = {s:String}", {"s": sid})
    assert [r["anonymous_id"] for r in remaining] == ["bob-pc"]
    assert warehouse.scalar("SELECT count() FROM event_ids WHERE site_id = {s:String}", {"s": sid}) == 1
    blocked = {i for s, i in erasure.blocked_identities(warehouse) if s == sid}
    assert {"anon:laptop", "anon:phone", "user:alice"} <= blocked


@pytest.fixture
def app(warehouse, tmp_path):
    app = collector.create_app(
        {"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool"), "KEY_REFRESH_SECONDS": 0.0}, warehouse=warehouse
    )
    yield app
    app.extensions["basirat.collector"].spool.close()


def test_collector_drops_events_of_erased_people(app, warehouse, site):
    sid = site["site_id"]
    erasure.block(warehouse, sid, ["anon:gone", "email:" + "0" * 64], "erased on request")
    from warehouse.queries.identity import email_identity

    erasure.block(warehouse, sid, [email_identity("Gone@Example.com")], "erased on request")
    client = app.test_client()
    batch = [
        {"type": "page", "anonymousId": "gone", "messageId": "b1"},
        {"type": "identify", "anonymousId": "new-device", "traits": {"email": " gone@example.com"}, "messageId": "b2"},
        {"type": "page", "anonymousId": "kept", "messageId": "b3"},
    ]
    answer = client.post("/v1/batch", json={"writeKey": site["write_key"], "batch": batch})
    assert answer.status_code == 200 and answer.get_json() == {"success": True}
    Loader(warehouse, app.config["SPOOL_DIR"]).drain()
    stored = warehouse.query("SELECT anonymous_id FROM events WHERE site_id = {s:String}", {"s": sid})
    assert [r["anonymous_id"] for r in stored] == ["kept"]


def test_events_spooled_before_an_erasure_are_not_loaded(app, warehouse, site):
    sid = site["site_id"]
    batch = [
        {"type": "page", "anonymousId": "leaving", "messageId": "s1"},
        {"type": "identify", "anonymousId": "phone", "traits": {"email": "leaving@example.com"}, "messageId": "s2"},
        {"type": "page", "anonymousId": "staying", "messageId": "s3"},
    ]
    answer = app.test_client().post("/v1/batch", json={"writeKey": site["write_key"], "batch": batch})
    assert answer.status_code == 200
    from warehouse.queries.identity import email_identity

    erasure.block(warehouse, sid, ["anon:leaving", email_identity("leaving@example.com")], "erased on request")
    Loader(warehouse, app.config["SPOOL_DIR"]).drain()
    stored = warehouse.query("SELECT anonymous_id FROM events WHERE site_id = {s:String}", {"s": sid})
    assert [r["anonymous_id"] for r in stored] == ["staying"]


def test_totals_from_visits_match_the_totals_query(warehouse, site):
    sid = site["site_id"]
    shop(warehouse, sid)
    who = people.identities(warehouse, sid, people.resolve(warehouse, sid, "alice"))
    visitors = people.visitor_ids(who)
    from warehouse.queries import sessions

    assert people.totals_of(sessions.visits(warehouse, sid, visitors)) == people.totals(warehouse, sid, visitors)


def test_scores_read_the_buyers_facts_alone(warehouse, site):
    """The scores job holds a row per customer, not per visitor; a site without orders still scores feedback."""
    from tests.conftest import new_site
    from warehouse.queries import segments as segment_store

    sid = site["site_id"]
    shop(warehouse, sid)
    everyone = segment_store.person_facts(warehouse, sid)
    buyers = segment_store.person_facts(warehouse, sid, buyers_only=True)
    assert len(everyone) > len(buyers) and list(buyers["person_id"]) == list(
        everyone.loc[everyone["orders"] > 0, "person_id"]
    )
    other = new_site(warehouse)["site_id"]
    load(warehouse, [page(other, 0, anon="v"), event(other, 1, anon="v", event="Feedback Submitted", score=4.0)])
    assert jobs.run_scores(warehouse, only(other), progress=lambda _m: None)["people"] == 1
