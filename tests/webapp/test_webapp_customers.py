"""The Customers grid, people named and linked in lists, and exports with contacts, on both backends."""

import csv
import hashlib
import io
import re

import pandas as pd

from mining.sessions import sessionize_site
from tests.support.factories import event, load, page
from tests.support.webapp_helpers import make_app, make_user, signed_in
from tests.warehouse.test_directory import people_of, scored
from warehouse.queries import people, scores, segments
from warehouse.queries import recommendations as rec_store


def setup_site(warehouse, sid):
    people_of(warehouse, sid)
    zoe = people.resolve(warehouse, sid, "zoe")
    scores.write_scores(
        warehouse,
        scored(
            sid,
            [
                {"person_id": zoe, "predicted_value": 80.0, "churn_risk": 0.2, "orders": 3, "historic_value": 120.0},
                {"person_id": "dev-b", "predicted_value": 4.0, "churn_risk": 0.8, "orders": 1},
            ],
        ),
    )
    at = pd.Timestamp("2026-01-01")
    segments.write_memberships(
        warehouse,
        sid,
        pd.DataFrame(
            {
                "segment": ["champions", "champions"],
                "person_id": [zoe, "dev-b"],
                "entered_at": [at, at],
                "left_at": [pd.Timestamp(0), pd.Timestamp(0)],
                "value": [120.0, 10.0],
            }
        ),
    )
    return zoe


def rows_of(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_customers_grid_exports_and_named_members(warehouse, site):
    sid = site["site_id"]
    zoe = setup_site(warehouse, sid)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    grid = client.get(f"/s/{sid}/customers?sort=churn&dir=desc").get_data(as_text=True)
    assert grid.index("dev-b") < grid.index(zoe) and "Zoë Khan" in grid
    assert f"/s/{sid}/people/{zoe}" in grid and f"/s/{sid}/people/anon:dev-b" in grid
    by_value = client.get(f"/s/{sid}/customers?sort=value").get_data(as_text=True)
    assert by_value.index(zoe) < by_value.index("dev-b")
    leaving = client.get(f"/s/{sid}/customers?sort=churn&churn=50").get_data(as_text=True)
    assert "dev-b" in leaving and zoe not in leaving
    assert client.get(f"/s/{sid}/customers?sort=bogus&dir=sideways&churn=x&page=-3").status_code == 200

    exported = rows_of(client.get(f"/s/{sid}/customers/export.csv?sort=value").get_data(as_text=True))
    assert [r["person_id"] for r in exported] == [zoe, "dev-b"]
    assert exported[0]["email"] == "Zoe@Example.com" and exported[0]["user_ids"] == "zoe"
    assert exported[0]["churn_risk_percent"] == "20" and exported[0]["segments"] == "champions"
    hashed = rows_of(client.get(f"/s/{sid}/customers/export.csv?hashed=1").get_data(as_text=True))
    assert [r["email_sha256"] for r in hashed] == [hashlib.sha256(b"zoe@example.com").hexdigest()]
    assert "email" not in hashed[0] and "phone" not in hashed[0]

    members = client.get(f"/s/{sid}/segments/champions").get_data(as_text=True)
    assert "Zoë Khan" in members and f"/s/{sid}/people/{zoe}" in members
    assert "Anonymous" in members and f"/s/{sid}/people/anon:dev-b" in members
    csv_rows = rows_of(client.get(f"/s/{sid}/segments/champions/export.csv").get_data(as_text=True))
    assert csv_rows[0]["name"] == "Zoë Khan" and csv_rows[0]["phone"] == "'+98 912"
    assert "spend_to_date" in csv_rows[0] and "Spend to date" in members
    hashed = rows_of(client.get(f"/s/{sid}/segments/champions/export.csv?hashed=1").get_data(as_text=True))
    assert len(hashed) == 1 and hashed[0]["person_id"] == zoe


def test_search_by_phone_name_and_order(warehouse, site):
    sid = site["site_id"]
    zoe = setup_site(warehouse, sid)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    for query in ("+98 912", "۹۸۹۱۲", "zoë khan", "Khan"):
        found = client.get(f"/s/{sid}/visitors", query_string={"q": query}).get_data(as_text=True)
        assert "Zoë Khan" in found and zoe in found, query


def test_likely_to_buy_a_product_by_name(warehouse, site):
    sid = site["site_id"]
    zoe = setup_site(warehouse, sid)
    rec_store.write_products(
        warehouse,
        pd.DataFrame(
            {
                "site_id": sid,
                "product_id": ["85099B", "23393"],
                "name": ["Jumbo Bag Red Retrospot", "Rabbit Night Light"],
                "category": "",
                "price": 1.0,
                "out_of_stock": 0,
            }
        ),
    )
    items = pd.DataFrame({"site_id": sid, "person_id": [zoe, "dev-b"], "item_id": "23393", "score": [0.4, 0.8]})
    rec_store.write_model(warehouse, "rec_person_items", "person", items, 1)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    grid = client.get(f"/s/{sid}/customers", query_string={"product": "rabbit light"}).get_data(as_text=True)
    assert "Recommendation score" in grid and grid.index("dev-b") < grid.index(zoe)
    exported = rows_of(
        client.get(f"/s/{sid}/customers/export.csv", query_string={"product": "rabbit light"}).get_data(as_text=True)
    )
    assert [(r["person_id"], r["recommendation_score"]) for r in exported] == [("dev-b", "0.8"), (zoe, "0.4")]
    missing = client.get(f"/s/{sid}/customers", query_string={"product": "unicorn"}).get_data(as_text=True)
    assert "No product matches" in missing


def test_live_events_name_people_but_not_claimed_ids(warehouse, site):
    sid = site["site_id"]
    setup_site(warehouse, sid)
    load(warehouse, [event(sid, 9, anon="evil", event="Order Completed", user_id="zoe", flags=["claimed"])])
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    text = client.get(f"/s/{sid}/events").get_data(as_text=True)
    assert text.count(">Zoë Khan</a>") == 1  # her identify; the forged order is its browser's
    assert f"/s/{sid}/people/anon:evil" in text


def test_visitors_sort_page_and_filter(warehouse, site):
    sid = site["site_id"]
    load(
        warehouse,
        [event(sid, i, anon=f"v{i}", event="Order Completed", order_id=f"o{i}", revenue=float(i)) for i in range(1, 4)]
        + [page(sid, 10 + i, anon=f"w{i}") for i in range(3)],
    )
    sessionize_site(warehouse, sid)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))

    def shown(**args):
        text = client.get(f"/s/{sid}/visitors", query_string=args).get_data(as_text=True)
        return re.findall(r'<td class="mono muted">anon:(\w+)</td>', text)

    assert shown(sort="revenue", dir="desc", buyers=1) == ["v3", "v2", "v1"]
    assert shown(sort="revenue", dir="asc", buyers=1) == ["v1", "v2", "v3"]
    assert shown(sort="last_seen")[:2] == ["w2", "w1"] and len(shown()) == 6
    assert shown(days=7) == []  # the factories' events are long past
    assert "Nobody matches these filters" in client.get(f"/s/{sid}/visitors?days=7").get_data(as_text=True)
    assert shown(sort="nope; DROP", dir="x", days="13") == shown()
