"""Contacts for a page of people and the Customers grid, on both backends."""

import datetime as dt

import pandas as pd

from mining import stitching
from mining.sessions import sessionize_site
from tests.support.factories import event, load, page
from warehouse.queries import directory, people, scores
from warehouse.queries import recommendations as rec_store


def people_of(warehouse, sid):
    load(
        warehouse,
        [
            page(sid, 0, anon="dev-a"),
            event(
                sid,
                1,
                anon="dev-a",
                type="identify",
                event="",
                user_id="zoe",
                traits={"email": " Zoe@Example.com ", "firstName": "Zoë", "lastName": "Khan", "phone": "+98 912"},
            ),
            page(sid, 2, anon="dev-b"),
            event(sid, 3, anon="dev-c", type="identify", event="", user_id="yan"),
            event(
                sid,
                4,
                anon="dev-b",
                type="identify",
                event="",
                traits={"email": "ceo@shop.example", "phone": "+1 555 0100"},
                flags=["claimed_traits"],
            ),
        ],
    )
    sessionize_site(warehouse, sid)
    stitching.stitch_site(warehouse, sid)


def test_contacts_of_people_and_raw_ids_in_one_query(warehouse, site):
    sid = site["site_id"]
    people_of(warehouse, sid)
    zoe = people.resolve(warehouse, sid, "zoe")
    found = directory.contacts(warehouse, sid, [zoe, "dev-b", "nobody"])
    assert found[zoe]["name"] == "Zoë Khan"
    assert found[zoe]["email"] == "Zoe@Example.com" and found[zoe]["phone"] == "+98 912"
    assert found[zoe]["user_ids"] == ["zoe"] and found[zoe]["anonymous_ids"] == ["dev-a"]
    assert found[zoe]["last_seen"] is not None
    # What a browser only claims never names anyone.
    assert found["dev-b"]["identities"] == ["anon:dev-b"] and not found["dev-b"]["email"]
    assert directory.find_told(warehouse, sid, "ceo", "ceo", "5550100") == []
    assert [r["identity"] for r in directory.find_told(warehouse, sid, "khan", "khan", "")] == ["user:zoe"]
    assert found["nobody"]["identities"] == [] and found["nobody"]["last_seen"] is None


def scored(sid, rows):
    base = {
        "site_id": sid,
        "model_version": 7,
        "orders": 1,
        "historic_value": 10.0,
        "predicted_purchases": 1.0,
        "predicted_value": 1.0,
        "p_alive": 0.5,
        "churn_risk": 0.5,
        "satisfaction": None,
        "recency_score": 3,
        "frequency_score": 3,
        "monetary_score": 3,
        "feedback_count": 0,
        "computed_at": dt.datetime(2026, 1, 1),
    }
    frame = pd.DataFrame([{**base, **r} for r in rows])
    frame["model_version"] = frame["model_version"].astype("uint64")
    for c in ("orders", "feedback_count"):
        frame[c] = frame[c].astype("uint32")
    for c in ("recency_score", "frequency_score", "monetary_score"):
        frame[c] = frame[c].astype("uint8")
    for c in ("predicted_purchases", "predicted_value", "p_alive", "churn_risk", "satisfaction"):
        frame[c] = frame[c].astype("float64")
    frame["computed_at"] = frame["computed_at"].astype("datetime64[s]")
    return frame


def test_customer_grid_sorts_pages_and_filters_in_clickhouse(warehouse, site):
    sid = site["site_id"]
    scores.write_scores(
        warehouse,
        scored(
            sid,
            [
                {"person_id": "a", "predicted_value": 50.0, "churn_risk": 0.1, "orders": 9},
                {"person_id": "b", "predicted_value": 5.0, "churn_risk": 0.9, "orders": 2},
                {"person_id": "c", "predicted_value": None, "churn_risk": None, "orders": 1},
                {"person_id": "old", "model_version": 6, "predicted_value": 99.0},
            ],
        ),
    )
    ids = lambda rows: [r["person_id"] for r in rows]  # noqa: E731
    assert ids(directory.customers(warehouse, sid, "value")) == ["a", "b", "c"]
    assert ids(directory.customers(warehouse, sid, "churn")) == ["b", "a", "c"]
    assert ids(directory.customers(warehouse, sid, "orders", descending=False)) == ["c", "b", "a"]
    assert ids(directory.customers(warehouse, sid, "value; DROP TABLE events")) == ["a", "b", "c"]
    assert ids(directory.customers(warehouse, sid, "value", limit=1, offset=1)) == ["b"]
    assert ids(directory.customers(warehouse, sid, "churn", min_churn=0.5)) == ["b"]
    assert directory.customer_count(warehouse, sid) == 3
    assert directory.customer_count(warehouse, sid, min_churn=0.5) == 1
    assert directory.customer_count(warehouse, sid, segment="nope") == 0


def test_likely_to_buy_sorts_by_the_person_model(warehouse, site):
    sid = site["site_id"]
    scores.write_scores(warehouse, scored(sid, [{"person_id": p} for p in ("a", "b", "c")]))
    items = pd.DataFrame(
        {
            "site_id": sid,
            "person_id": ["a", "b", "b", "c"],
            "item_id": ["mug", "mug", "tea", "tea"],
            "score": [0.2, 0.9, 0.5, 0.7],
        }
    )
    rec_store.write_model(warehouse, "rec_person_items", "person", items.iloc[:1], 1)
    rec_store.write_model(warehouse, "rec_person_items", "person", items, 2)
    rows = directory.customers(warehouse, sid, "likely", product="mug")
    assert [(r["person_id"], r["likelihood"]) for r in rows] == [("b", 0.9), ("a", 0.2)]
    assert directory.customer_count(warehouse, sid, product="mug") == 2
    assert directory.customer_count(warehouse, sid, product="nothing") == 0
