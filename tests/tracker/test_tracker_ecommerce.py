"""The ecommerce reader (e.js) in headless Chromium: pages that only publish GA4 dataLayer events or
schema.org JSON-LD, written from the platforms' documented markup, checked event by event in the
warehouse of a real ``basirat serve``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.live import LiveServer, basirat
from tests.tracker.test_tracker_browser import READY

pytestmark = pytest.mark.process
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ecommerce"
COLUMNS = "event, product_id, product_name, price, quantity, order_id, revenue, currency, item_ids, properties"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    data = tmp_path_factory.mktemp("ecommerce")
    site = json.loads(basirat(data, "sites", "create", "Fixture shops", "--domain", "127.0.0.1", "--json").stdout)
    server = LiveServer(data).start()
    server.site = site
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def open_fixture(live, page, name: str) -> tuple[str, str]:
    """Serve a fixture page on the collector's origin with the tracker tag in it: (visitor id, path)."""
    tag = (
        f'<script async src="{live.url}/t.js" data-write-key="{live.site["write_key"]}" '
        f'data-host="{live.url}" data-ecommerce></script>'
    )
    html = (FIXTURES / name).read_text().replace("{{TRACKER}}", tag)
    url = f"{live.url}/fixture/{name}"
    page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(url)
    return page.evaluate(READY), f"/fixture/{name}"


def tracked(live, visit: tuple[str, str], count: int) -> list[dict]:
    anon, path = visit
    query = (
        f"SELECT {COLUMNS} FROM events WHERE anonymous_id = '{anon}' AND path = '{path}' AND type = 'track' "
        "AND event NOT IN ('Page Engagement') ORDER BY timestamp, timestamp_ms, event"
    )
    rows = live.wait_for(query, lambda rows: len(rows) >= count, timeout=30)
    for row in rows:
        row["properties"] = json.loads(row["properties"])
    return rows


def test_ga4_data_layer_gives_the_same_events_as_calls_made_by_hand(live, page):
    expected = [
        "Product List Viewed",
        "Product Clicked",
        "Product Viewed",
        "Product Added",
        "Product Added",
        "Product Removed",
        "Cart Viewed",
        "Checkout Started",
        "Checkout Step Completed",
        "Payment Info Entered",
        "Order Completed",
        "Order Refunded",
    ]
    from_layer = tracked(live, open_fixture(live, page, "gtm_ga4.html"), len(expected))
    by_hand = tracked(live, open_fixture(live, page, "by_hand.html"), len(expected))
    assert sorted(r["event"] for r in from_layer) == sorted(expected)

    def key(row):
        return row["event"], row["product_id"], row["order_id"]

    assert sorted(from_layer, key=key) == sorted(by_hand, key=key)
    [order] = [r for r in from_layer if r["event"] == "Order Completed"]
    assert (order["order_id"], order["currency"]) == ("T_12345", "USD")
    assert order["properties"]["total"] == pytest.approx(40.92) and order["properties"]["revenue"] == 30.03
    [viewed] = [r for r in from_layer if r["event"] == "Product Viewed"]
    assert viewed["properties"]["category"] == "Apparel/Adult/Shirts" and viewed["product_id"] == "SKU_12345"


def test_shopify_product_json_ld_is_a_product_view(live, page):
    [viewed] = tracked(live, open_fixture(live, page, "shopify_product.html"), 1)
    assert viewed["event"] == "Product Viewed"
    assert viewed["properties"] == {
        "product_id": "OBS-M",
        "name": "Ocean Blue Shirt",
        "brand": "Ocean Co",
        "price": 50,
        "currency": "USD",
    }


def test_woocommerce_page_with_data_layer_and_json_ld_counts_one_view_then_the_cart_add(live, page):
    anon = open_fixture(live, page, "woocommerce_product.html")
    tracked(live, anon, 1)
    page.click("#add")
    rows = tracked(live, anon, 2)
    assert [r["event"] for r in rows] == ["Product Viewed", "Product Added"]
    assert rows[0]["properties"] == {
        "product_id": "woo-beanie",
        "name": "Beanie",
        "category": "Accessories",
        "price": 18,
        "quantity": 1,
        "currency": "USD",
    }
    assert rows[1]["product_id"] == "woo-beanie" and rows[1]["price"] == 18


def test_the_pages_own_call_wins_and_universal_analytics_purchases_are_read(live, page):
    anon = open_fixture(live, page, "explicit_wins.html")
    rows = tracked(live, anon, 2)
    page.wait_for_timeout(1500)  # anything derived and wrongly kept would have been sent by now
    rows = tracked(live, anon, 2)
    assert [r["event"] for r in rows] == ["Product Viewed", "Order Completed"]
    assert rows[0]["properties"] == {"product_id": "lamp", "name": "Lamp", "price": 10, "currency": "EUR"}
    order = rows[1]["properties"]
    assert order["order_id"] == "UA-1" and order["total"] == 35.43
    assert order["revenue"] == pytest.approx(24.54) and order["products"][0]["category"] == "Home/Lights"
