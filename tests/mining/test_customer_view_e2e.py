"""End to end: two devices browse anonymously, log in on both (the store's server signs the customer
id), the store's server tells the customer's email, and a till order with the same email is imported:
the collector, loader and jobs make one person of all three."""

import base64
import uuid

import pytest

import collector
from collector.imports import mapping_for, parse_orders
from collector.loader import Loader
from core.identity import user_hash
from mining import stitching
from mining.sessions import sessionize_site
from warehouse.queries import people
from warehouse.queries.imports import insert_new_events


@pytest.fixture
def app(warehouse, tmp_path):
    app = collector.create_app({"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool")}, warehouse=warehouse)
    yield app
    app.extensions["basirat.collector"].spool.close()


def message(kind, anon, at, **fields):
    return {"type": kind, "anonymousId": anon, "messageId": uuid.uuid4().hex, "timestamp": at, **fields}


def browsing(device, agent, day, secret):
    """Anonymous browsing, then a login that names the customer, with the id signed by the store's server."""
    ctx = {"userAgent": agent}
    signed = {**ctx, "userHash": user_hash(secret, "c-42")}
    return [
        message("page", device, f"2026-04-{day}T10:00:00Z", properties={"path": "/"}, context=ctx),
        message(
            "track",
            device,
            f"2026-04-{day}T10:01:00Z",
            event="Product Viewed",
            properties={"product_id": f"p-{day}", "price": 5},
            context=ctx,
        ),
        message(
            "identify",
            device,
            f"2026-04-{day}T10:02:00Z",
            userId="c-42",
            traits={"email": "Maya@Example.org"},
            context=signed,
        ),
        message(
            "track",
            device,
            f"2026-04-{day}T10:03:00Z",
            event="Order Completed",
            userId="c-42",
            properties={"order_id": f"W-{day}", "revenue": 20},
            context=signed,
        ),
    ]


def test_two_devices_and_an_offline_order_are_one_person(app, warehouse, site, tmp_path):
    sid = site["site_id"]
    auth = {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()}
    secret = site["identity_secret"]
    batch = browsing("dev-laptop", "Mozilla/5.0 (X11; Linux)", "10", secret) + browsing(
        "dev-phone", "Mozilla/5.0 (iPhone)", "12", secret
    )
    assert app.test_client().post("/v1/batch", json={"batch": batch}, headers=auth).status_code == 200
    # The email a browser sends is only its claim; the store's server vouches for it with its server key.
    server = {"Authorization": "Basic " + base64.b64encode(f"{site['server_key']}:".encode()).decode()}
    told = {"type": "identify", "userId": "c-42", "traits": {"email": "Maya@Example.org"}, "messageId": "srv-1"}
    assert app.test_client().post("/v1/identify", json=told, headers=server).status_code == 200
    Loader(warehouse, app.config["SPOOL_DIR"]).drain()

    till = tmp_path / "till.csv"
    till.write_text("order,customer,email,date,sku,qty,price\nT-9,900,maya@example.org ,2026-04-20,p-till,2,7.5\n")
    mapping = mapping_for(
        None,
        {
            "order_id": "order",
            "customer_id": "customer",
            "email": "email",
            "date": "date",
            "product_id": "sku",
            "quantity": "qty",
            "price": "price",
        },
        date_format="%Y-%m-%d",
        channel="till",
    )
    parsed = parse_orders(str(till), mapping, sid, __import__("datetime").datetime(2026, 4, 21))
    assert insert_new_events(warehouse, parsed.rows) == 1

    sessionize_site(warehouse, sid)
    stitching.stitch_site(warehouse, sid)

    person = people.resolve(warehouse, sid, "maya@example.org")
    assert person is not None
    assert {
        people.resolve(warehouse, sid, ref) for ref in ("anon:dev-laptop", "anon:dev-phone", "c-42", "customer:900")
    } == {person}
    profile = people.profile(warehouse, sid, person)
    reasons = {r["identity"]: r["reason"] for r in profile["identities"]}
    assert reasons["anon:dev-laptop"] == reasons["anon:dev-phone"] == "identify"
    assert reasons["customer:900"] == "import"
    # Browsing from before the login is attributed to the person retroactively.
    assert sorted(p for v in profile["visits"] for p in v["products_viewed"]) == ["p-10", "p-12"]
    totals = profile["totals"]
    assert (totals["orders"], totals["revenue"]) == (3, 55.0)
    assert profile["devices"] == ["desktop", "mobile", "offline"]
    assert {v["source"] for v in profile["visits"]} == {"direct", "till"}
