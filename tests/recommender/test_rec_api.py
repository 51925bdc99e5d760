"""The recommendation endpoint over the Flask test client, on both backends."""

import base64

import pytest

import collector
from tests.support.factories import recent
from warehouse.queries import events
from warehouse.queries import recommendations as store

pytestmark = pytest.mark.slow  # mines the store with every job, per backend


@pytest.fixture
def warehouse(mined):
    return mined[0]


def get(client, site, path="/v1/recommendations", **params):
    return client.get(path, query_string={"key": site["public_key"], **params})


def test_keys_public_only(endpoint, tmp_path, warehouse):
    client, _, site = endpoint
    assert client.get("/v1/recommendations").status_code == 401
    refused = client.get("/v1/recommendations", query_string={"key": site["write_key"]})
    assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized"
    basic = base64.b64encode(f"{site['public_key']}:".encode()).decode()
    assert client.get("/v1/recommendations", headers={"Authorization": f"Basic {basic}"}).status_code == 200
    # ...and the collector takes no public key.
    intake = collector.create_app({"SPOOL_DIR": str(tmp_path / "intake")}, warehouse=warehouse).test_client()
    sent = intake.post("/v1/track", json={"writeKey": site["public_key"], "event": "x", "anonymousId": "a"})
    assert sent.status_code == 401


@pytest.mark.parametrize(
    "params", [{"context": "checkout"}, {"limit": "0"}, {"limit": "many"}, {"minPrice": "-1"}, {"userId": "u" * 300}]
)
def test_bad_parameters_are_clear_400s(endpoint, params):
    client, _, site = endpoint
    response = get(client, site, **params)
    assert response.status_code == 400 and response.get_json()["error"] == "bad_request"


def test_unknown_visitor_gets_popular_in_context(endpoint):
    client, state, site = endpoint
    response = get(client, site, anonymousId="never-seen", limit=3)
    assert response.headers["Server-Timing"].startswith("app;dur=")
    body = response.get_json()
    assert body["strategy"] in ("trending", "popular") and len(body["items"]) == 3
    assert set(body["items"][0]) == {"itemId", "score", "reason"}
    assert body["recommendationId"].startswith("r_") and int(body["modelVersion"]) > 0
    cart = get(client, site, anonymousId="never-seen", context="cart", itemId="lamp").get_json()
    assert cart["strategy"] == "bought_together" and cart["items"][0]["itemId"] == "bulb"


def test_live_session_drives_the_answer_and_purchases_are_never_shown(endpoint, warehouse):
    client, state, site = endpoint
    now = {"minutes_ago": 0}
    live = [
        recent(site["site_id"], "live-1", "Product Viewed", product_id="robot", **now),
        recent(site["site_id"], "live-1", "Order Completed", item_ids=["battery"], item_prices=[3.0], **now),
    ]
    for row in live:
        row["received_at"] = row["timestamp"]
    events.insert_events(warehouse, live)
    assert state.tail() >= 2
    body = get(client, site, anonymousId="live-1").get_json()
    ids = [i["itemId"] for i in body["items"]]
    # home shows products of the visit again (REC_SHOW_SEEN); the first new one is the session's neighbour
    assert body["strategy"] == "session_knn" and [i for i in ids if i != "robot"][0] == "kite"
    assert "battery" not in ids and body["items"][0]["reason"] == "similar sessions"
    hidden = [i["itemId"] for i in get(client, site, anonymousId="live-1", context="cart").get_json()["items"]]
    assert "robot" not in hidden and "battery" not in hidden


def test_item_to_item_variant(endpoint):
    client, _, site = endpoint
    body = get(client, site, path="/v1/recommendations/items/lamp", kind="bought_together").get_json()
    assert body["strategy"] == "bought_together" and body["items"][0]["itemId"] == "bulb"
    viewed = get(client, site, path="/v1/recommendations/items/robot").get_json()
    assert {i["itemId"] for i in viewed["items"][:2]} == {"battery", "kite"}
    assert get(client, site, path="/v1/recommendations/items/lamp", kind="nope").status_code == 400


def test_cors_for_the_sites_domains_only(endpoint):
    client, _, site = endpoint
    ok = get(client, site, anonymousId="a").headers
    assert "Access-Control-Allow-Origin" not in ok
    shop = client.get(
        "/v1/recommendations", query_string={"key": site["public_key"]}, headers={"Origin": "https://www.shop.example"}
    )
    assert shop.headers["Access-Control-Allow-Origin"] == "https://www.shop.example"
    evil = client.get(
        "/v1/recommendations", query_string={"key": site["public_key"]}, headers={"Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in evil.headers
    preflight = client.options("/v1/recommendations", headers={"Origin": "https://shop.example"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_every_answer_is_logged_for_attribution(endpoint, warehouse):
    client, state, site = endpoint
    ids = {get(client, site, anonymousId="v-log", context="product", itemId="lamp").get_json()["recommendationId"]}
    ids.add(get(client, site, anonymousId="v-log").get_json()["recommendationId"])
    assert state.flush() == 2
    rows = warehouse.query(
        "SELECT recommendation_id, strategy, context FROM rec_served WHERE site_id = {s:String}",
        {"s": site["site_id"]},
    )
    assert {r["recommendation_id"] for r in rows} == ids
    assert {r["context"] for r in rows} == {"product", "home"}


# Last: it flags a product out of stock in the module's shared store.
def test_stock_and_business_filters(endpoint, warehouse):
    client, state, site = endpoint
    store.set_stock(warehouse, site["site_id"], "kite", True)
    state.index.refresh()
    viewed = get(client, site, path="/v1/recommendations/items/robot", limit=20).get_json()
    assert viewed["items"] and "kite" not in [i["itemId"] for i in viewed["items"]]
    toys = get(client, site, category="Toys", limit=20).get_json()
    catalog = store.catalog(warehouse, site["site_id"]).set_index("item_id")
    assert toys["items"] and all(catalog.loc[i["itemId"], "category"] == "Toys" for i in toys["items"])
