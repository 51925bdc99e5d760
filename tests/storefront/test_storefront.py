"""The demo store's pages through Flask's test client (the browser tests drive it for real)."""

from __future__ import annotations

import html
import json
import re
import uuid

import pandas as pd
import pytest

import storefront
from core.identity import user_hash
from storefront.catalog import Catalog, categorize, products_from_invoices
from warehouse.queries import sites


@pytest.fixture(scope="module")
def store_site(chdb_warehouse):
    return sites.create_site(chdb_warehouse, f"store-{uuid.uuid4().hex[:8]}", ["127.0.0.1"])


@pytest.fixture(scope="module")
def app(chdb_warehouse, store_site):
    return storefront.create_app({"TESTING": True, "STOREFRONT_SITE": store_site["name"]}, warehouse=chdb_warehouse)


@pytest.fixture
def client(app):
    return app.test_client()


def tracked(page: str) -> list:
    """The tracker calls a page asks store.js to make."""
    match = re.search(r'data-track="([^"]*)"', page)
    return json.loads(html.unescape(match.group(1)))


def test_catalog_is_the_real_one():
    frame = pd.DataFrame(
        {
            "StockCode": ["23084", "23084", "POST", "22492", "22492"],
            "Description": ["RABBIT NIGHT LIGHT", "RABBIT NIGHT LIGHT", "POSTAGE", "MINI PAINT SET VINTAGE ", "x"],
            "Quantity": [10, 2, 1, 5, -5],
            "UnitPrice": [1.79, 2.08, 18.0, 0.65, 0.65],
        }
    )
    rows = products_from_invoices(frame)
    assert list(rows["product_id"]) == ["23084", "22492"]
    assert rows.iloc[0]["sold"] == 12 and rows.iloc[0]["price"] == pytest.approx(1.94)
    catalog = Catalog(rows)
    assert catalog.get("23084").name == "Rabbit Night Light" and catalog.get("23084").category == "lighting"
    assert catalog.get("22492").name == "Mini Paint Set Vintage" and catalog.get("POST") is None
    assert categorize("SET/6 RED SPOTTY PAPER CUPS")[0] == "kitchen"
    assert categorize("WOODEN STAR CHRISTMAS SCANDINAVIAN")[0] == "christmas"


def test_home_embeds_the_snippet_with_the_sites_keys_and_no_inline_script(client, store_site):
    page = client.get("/store/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-write-key="{store_site["write_key"]}"' in text
    assert f'data-public-key="{store_site["public_key"]}"' in text
    assert "Rabbit Night Light" in text and "Recommended for you" in text
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", text))
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_product_page_names_its_product_view(client):
    page = client.get("/store/product/23084").get_data(as_text=True)
    [[method, product]] = tracked(page)
    assert method == "viewProduct"
    assert product["product_id"] == "23084" and product["name"] == "Rabbit Night Light"
    assert product["currency"] == "GBP" and product["price"] > 0 and product["category"]
    assert client.get("/store/product/nope").status_code == 404


def test_search_terms_are_escaped(client):
    page = client.get("/store/search", query_string={"q": '<script>alert("x")</script>'}).get_data(as_text=True)
    assert "<script>alert" not in page
    [[method, args]] = tracked(page)
    assert method == "search" and args == {"query": '<script>alert("x")</script>'}


def test_cart_checkout_order_and_feedback(client):
    client.post("/store/cart/add", data={"product_id": "23084", "quantity": "3"})
    client.post("/store/cart/add", data={"product_id": "22492", "quantity": "1"})
    cart = client.get("/store/cart").get_data(as_text=True)
    [[method, viewed]] = tracked(cart)
    assert method == "viewCart" and {p["product_id"]: p["quantity"] for p in viewed["products"]} == {
        "23084": 3,
        "22492": 1,
    }
    [[method, started]] = tracked(client.get("/store/checkout").get_data(as_text=True))
    assert method == "checkout" and len(started["products"]) == 2
    placed = client.post("/store/checkout", data={"name": "A", "email": "a@example.com", "address": "x"})
    assert placed.status_code == 303
    order_url = placed.headers["Location"]
    [[method, order]] = tracked(client.get(order_url).get_data(as_text=True))
    assert {p["product_id"]: p["quantity"] for p in order["products"]} == {"23084": 3, "22492": 1}
    expected = sum(p["price"] * p["quantity"] for p in order["products"])
    assert method == "order" and order["order_id"] in order_url and order["revenue"] == pytest.approx(expected)
    assert tracked(client.get(order_url).get_data(as_text=True)) == []  # a reload is not a second order
    client.post("/store/feedback", data={"order_id": order["order_id"], "score": "5", "comment": "Quick"})
    [[method, score, comment, extra]] = tracked(client.get(order_url).get_data(as_text=True))
    assert (method, score, comment, extra["order_id"]) == ("feedback", 5, "Quick", order["order_id"])
    assert client.get("/store/cart").get_data(as_text=True).count("data-cart-update") == 0


def test_login_identifies_a_demo_customer_and_logout_resets(client, chdb_warehouse, store_site):
    assert "No customer" in client.post("/store/login", data={"customer": "99999999"}).get_data(as_text=True)
    client.post("/store/login", data={"customer": "12583"})
    page = client.get("/store/").get_data(as_text=True)
    [[method, user_id, traits, options]] = tracked(page)
    assert method == "identify" and user_id == "cust-12583" and traits["email"].startswith("customer12583")
    # The store's server signs the id, for the identify and for the recommendation calls.
    secret = sites.get_site(chdb_warehouse, store_site["site_id"])["identity_secret"]
    assert options == {"userHash": user_hash(secret, "cust-12583")}
    assert f'data-user-hash="{options["userHash"]}"' in page
    assert secret not in page
    client.post("/store/logout")
    assert tracked(client.get("/store/").get_data(as_text=True)) == [["reset"]]


def test_recommendation_cards_for_known_ids_only(client):
    cards = client.get("/store/api/products", query_string={"ids": "23084,nope,22492"}).get_json()
    assert [c["id"] for c in cards] == ["23084", "22492"]
    assert cards[0]["url"] == "/store/product/23084"


def test_without_the_site_pages_render_without_tracker(chdb_warehouse):
    app = storefront.create_app({"TESTING": True, "STOREFRONT_SITE": "no such site"}, warehouse=chdb_warehouse)
    page = app.test_client().get("/store/").get_data(as_text=True)
    assert "data-write-key" not in page and "Popular right now" in page
