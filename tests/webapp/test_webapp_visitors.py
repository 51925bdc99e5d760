"""Visitor list, search, profile and manual merge/unmerge pages, on both backends."""

import pandas as pd
import pytest

from mining import jobs, stitching
from mining.sessions import sessionize_site
from tests.support.config import only
from tests.support.factories import event, load, order, page
from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import events, people
from warehouse.queries import recommendations as rec_store


def run_jobs(warehouse, sid):
    """Visits and the identity map, as the scheduled jobs would leave them."""
    sessionize_site(warehouse, sid)
    stitching.stitch_site(warehouse, sid)


def visits(warehouse, sid):
    load(
        warehouse,
        [
            page(sid, 0, anon="dev-a", path="/<script>alert(1)</script>", utm_source="mail"),
            event(sid, 1, anon="dev-a", type="identify", event="", user_id="zoe", traits={"email": "zoe@example.com"}),
            event(sid, 2, anon="dev-a", event="Order Completed", user_id="zoe", order_id="Z-77", revenue=42.0),
            event(sid, 3, anon="dev-b", type="identify", event="", user_id="yan"),
        ],
    )
    run_jobs(warehouse, sid)


def test_list_search_and_profile(warehouse, site):
    sid = site["site_id"]
    visits(warehouse, sid)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    listing = client.get(f"/s/{sid}/visitors").get_data(as_text=True)
    assert "anon:dev-a" in listing and "anon:dev-b" in listing
    zoe = people.resolve(warehouse, sid, "zoe")
    assert zoe.startswith("p_")  # the id exports and segment lists show
    for query in ("zoe@example.com", "Z-77", "zoe", "dev-a", zoe):
        found = client.get(f"/s/{sid}/visitors", query_string={"q": query}).get_data(as_text=True)
        assert zoe in found and people.resolve(warehouse, sid, "yan") not in found, query
        assert "Nobody matches" not in found, query
    assert "Nobody matches" in client.get(f"/s/{sid}/visitors?q=nobody").get_data(as_text=True)
    profile = client.get(f"/s/{sid}/people/user:zoe")
    text = profile.get_data(as_text=True)
    assert profile.status_code == 200
    assert "signed in" in text and "Z-77" in text and "42.00" in text and "mail" in text
    assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    assert "Unmerge" not in text  # analysts read, admins change
    assert client.get(f"/s/{sid}/people/user:nobody").status_code == 404
    assert post(client, f"/s/{sid}/people/user:zoe/merge", {"other": "yan"}).status_code == 403


def test_search_by_the_start_of_an_id(warehouse, site):
    sid = site["site_id"]
    visits(warehouse, sid)
    load(warehouse, [page(sid, 10 + i, anon=anon, path="/") for i, anon in enumerate(["de_x", "de%y", "other"])])
    run_jobs(warehouse, sid)

    def found(query):
        return {row["identity"] for row in people.search(warehouse, sid, query)}

    persons = {r["person_id"] for r in people.search(warehouse, sid, "dev-")}
    assert persons == {people.resolve(warehouse, sid, "anon:dev-a"), people.resolve(warehouse, sid, "anon:dev-b")}
    assert found("de_") == {"anon:de_x"}  # _ and % match themselves, not any character
    assert found("de%") == {"anon:de%y"}
    assert found("zo") == set()  # two characters are too few for a prefix search
    assert [r["matched"] for r in people.search(warehouse, sid, "zoe")][0] == "id"


def test_any_tracked_id_has_a_profile(warehouse, site):
    """Ids are whatever the tracker sent: newlines, slashes and ``//`` must not 404."""
    sid = site["site_id"]
    odd = ["a\nb", "x//y", "/lead", "q?x=1#f", "p%2Fq"]
    load(warehouse, [page(sid, i, anon=anon, path="/home") for i, anon in enumerate(odd)])
    run_jobs(warehouse, sid)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    with client.application.test_request_context():
        from flask import url_for

        urls = [url_for("visitors.show", site_id=sid, ref=f"anon:{anon}") for anon in odd]
    for anon, url in zip(odd, urls):
        answer = client.get(url)
        assert answer.status_code == 200, (anon, url)
        assert "/home" in answer.get_data(as_text=True)


def test_admin_merges_and_unmerges_with_an_audit_trail(warehouse, site):
    sid = site["site_id"]
    visits(warehouse, sid)
    email, _ = make_user(warehouse, "admin", [sid])
    client = signed_in(make_app(warehouse), email, "correct horse battery")
    merged = post(client, f"/s/{sid}/people/user:zoe/merge", {"other": "yan", "note": "same shopper"})
    assert merged.status_code == 302
    text = client.get(merged.headers["Location"]).get_data(as_text=True)
    assert "user:zoe" in text and "anon:dev-b" in text and "same shopper" in text and email in text
    split = post(client, f"/s/{sid}/people/user:zoe/unmerge", {"identity": "user:yan"})
    assert split.status_code == 302
    after = client.get(f"/s/{sid}/people/user:zoe").get_data(as_text=True)
    assert "anon:dev-b" not in after and "unmerge" in after
    assert post(client, f"/s/{sid}/people/user:zoe/unmerge", {"identity": "user:someone-else"}).status_code == 404


@pytest.mark.slow
def test_profile_shows_what_the_jobs_found(warehouse, site):
    sid = site["site_id"]
    visits(warehouse, sid)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    fragment = f"/s/{sid}/visitors/job-results?ref=user:zoe&fragment=1"
    profile = client.get(f"/s/{sid}/people/user:zoe").get_data(as_text=True)
    assert 'data-fragment="/s/%s/visitors/job-results?ref=user:zoe&amp;fragment=1"' % sid in profile
    assert f'href="/s/{sid}/visitors/job-results?ref=user:zoe"' in profile  # without script, a link
    assert "No segment, score or recommendation for this person yet" in client.get(fragment).get_data(as_text=True)
    jobs.run_scores(warehouse, only(sid), progress=lambda _m: None)
    jobs.run_segments(warehouse, only(sid), progress=lambda _m: None)
    zoe = people.resolve(warehouse, sid, "zoe")
    assert zoe.startswith("p_")  # the id exports and segment lists show
    frame = pd.DataFrame({"site_id": [sid], "person_id": [zoe], "item_id": ["mug-9"], "score": [1.0]})
    rec_store.write_model(warehouse, "rec_person_items", "person", frame, 7)
    rec_store.write_products(warehouse, pd.DataFrame(
        {"site_id": [sid], "product_id": ["mug-9"], "name": ["<b>Mug</b>"], "category": [""], "price": [9.0],
         "out_of_stock": [0]}))  # fmt: skip
    text = client.get(fragment).get_data(as_text=True)
    assert f'href="/s/{sid}/segments/champions"' in text  # the site's only buyer
    assert "R 5 · F 5 · M 5" in text
    assert "&lt;b&gt;Mug&lt;/b&gt;" in text and "<b>Mug</b>" not in text  # a tracked name, escaped
    assert "<html" not in text and "No segment, score or recommendation" not in text
    page = client.get(f"/s/{sid}/visitors/job-results?ref=user:zoe").get_data(as_text=True)
    assert "<html" in page and "R 5 · F 5 · M 5" in page and f'href="/s/{sid}/people/user:zoe"' in page
    assert client.get(f"/s/{sid}/visitors/job-results?ref=user:nobody").status_code == 404


def test_profile_says_what_churn_risk_means(warehouse, site):
    sid = site["site_id"]
    start = pd.Timestamp("2025-01-01")
    rows = []
    for i in range(30):  # enough buyers and repeaters for the model to speak
        for k in range(1 + i % 5):
            when = start + pd.Timedelta(days=300 - 10 * k - (0 if i % 2 else 200))
            rows.append(order(sid, when.to_pydatetime(), f"c{i:02d}", f"c{i:02d}-{k}", 10.0 + i))
    events.insert_events(warehouse, rows)
    jobs.run_scores(warehouse, only(sid), progress=lambda _m: None)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    text = client.get(f"/s/{sid}/visitors/job-results?ref=anon:c09&fragment=1").get_data(as_text=True)
    assert "chance of no order in the next 90 days" in text  # the horizon the admin serves with
