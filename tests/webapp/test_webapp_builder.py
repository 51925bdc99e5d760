"""The admin's segment builder: define, preview, edit and delete custom segments, admins only."""

import datetime as dt
import json

import pandas as pd

from mining import membership
from tests.conftest import new_site
from tests.support.factories import order, tracked
from tests.support.webapp_helpers import make_app, make_user, post, signed_in
from warehouse.queries import conditions, events
from warehouse.queries import recommendations as rec_store

T0 = dt.datetime(2026, 3, 1, 12)


def shop(warehouse, sid):
    events.insert_events(
        warehouse,
        [
            order(sid, T0 - dt.timedelta(days=40), "ann", "o1", 50.0, items=("mug",)),
            order(sid, T0 - dt.timedelta(days=2), "ann", "o2", 70.0, items=("gtea",)),
            order(sid, T0 - dt.timedelta(days=1), "bob", "o3", 20.0, items=("mug",)),
            tracked(sid, T0, "Product Viewed", "cy", product_id="gtea"),
        ],
    )
    rec_store.write_products(
        warehouse,
        pd.DataFrame(
            {
                "site_id": sid,
                "product_id": ["mug", "gtea", "teapot"],
                "name": ["Blue Mug", "Green Tea", "Tea Pot"],
                "category": "",
                "price": 1.0,
                "out_of_stock": 0,
            }
        ),
    )


def test_admin_previews_saves_edits_and_deletes_a_segment(warehouse, site):
    sid = site["site_id"]
    shop(warehouse, sid)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "admin", [sid]))
    form = client.get(f"/s/{sid}/segments/new").get_data(as_text=True)
    assert 'aria-current="page">Segments<' in form and "data-count-url" in form

    # Without script: the Preview button answers on the page, nothing is saved
    preview = post(
        client,
        f"/s/{sid}/segments/new",
        {"name": "mug_fans", "op_orders": ">=", "value_orders": "1", "product_bought": "Blue Mug", "action": "preview"},
    )
    assert preview.status_code == 200 and "2 people match now." in preview.get_data(as_text=True)
    assert conditions.custom_segments(warehouse, sid) == []

    saved = post(
        client,
        f"/s/{sid}/segments/new",
        {
            "name": "mug_fans",
            "op_orders": ">=",
            "value_orders": "1",
            "product_bought": "mug",
            "product_bought_days": "7",
            "action": "save",
        },
    )
    assert saved.status_code == 302
    [stored] = conditions.custom_segments(warehouse, sid)
    assert stored["conditions"] == [
        {"field": "orders", "op": ">=", "value": 1.0},
        {"field": "product", "action": "bought", "product_id": "mug", "days": 7},
    ]
    listing = client.get(f"/s/{sid}/segments").get_data(as_text=True)
    assert "Bought the product: mug within 7 days" in listing and "after the next segments run" in listing

    membership.refresh_site(warehouse, sid, progress=lambda _: None)
    by_size = client.get(f"/s/{sid}/segments?sort=size&dir=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in by_size and "sort=size&amp;dir=asc" in by_size
    page = client.get(f"/s/{sid}/segments/mug_fans").get_data(as_text=True)
    assert "1 members now" in page and 'aria-current="page">Segments<' in page
    assert ">Value<" not in page  # a custom segment's members carry no value
    by_since = client.get(f"/s/{sid}/segments/mug_fans?sort=since&dir=asc").get_data(as_text=True)
    assert 'aria-sort="ascending"' in by_since and "sort=since&amp;dir=desc" in by_since

    edit = client.get(f"/s/{sid}/segments/mug_fans/edit").get_data(as_text=True)
    assert 'value="mug"' in edit and '<option value="&gt;=" selected>' in edit
    post(
        client,
        f"/s/{sid}/segments/mug_fans/edit",
        {
            "op_churn_risk": ">",
            "value_churn_risk": "50",
            "other": '[{"field": "trait", "name": "plan", "op": "=", "value": "gold"}]',
            "action": "save",
        },
    )
    [stored] = conditions.custom_segments(warehouse, sid)
    assert stored["conditions"] == [
        {"field": "score", "name": "churn_risk", "op": ">", "value": 0.5},
        {"field": "trait", "name": "plan", "op": "=", "value": "gold"},
    ]
    again = client.get(f"/s/{sid}/segments/mug_fans/edit").get_data(as_text=True)
    assert 'value="50"' in again and "&#34;plan&#34;" in again  # the row and the JSON box hold it all

    assert post(client, f"/s/{sid}/segments/mug_fans/delete").status_code == 302
    assert conditions.custom_segments(warehouse, sid) == []


def test_live_count_answers_json_with_clear_errors(warehouse, site):
    sid = site["site_id"]
    shop(warehouse, sid)
    client = signed_in(make_app(warehouse), *make_user(warehouse, "admin", [sid]))
    url = f"/s/{sid}/segments/count.json"
    assert client.get(url, query_string={"product_viewed": "Green Tea"}).get_json() == {"count": 1}
    assert client.get(url, query_string={"op_revenue": ">", "value_revenue": "60"}).get_json() == {"count": 1}
    bad = client.get(url, query_string={"op_orders": ">", "value_orders": "two'; DROP", "product_bought": "tea"})
    errors = bad.get_json()["errors"]
    assert bad.status_code == 400 and errors["orders"] == "Orders: type a number"
    assert "several products match" in errors["product_bought"] and "Tea Pot (teapot)" in errors["product_bought"]
    assert (
        "no product matches"
        in client.get(url, query_string={"product_added": "kettle"}).get_json()["errors"]["product_added"]
    )
    assert "not valid JSON" in client.get(url, query_string={"other": "[{"}).get_json()["errors"]["other"]
    unknown = client.get(url, query_string={"other": json.dumps([{"field": "secret", "op": ">", "value": 1}])})
    assert "unknown field" in unknown.get_json()["errors"]["form"]
    assert client.get(url).get_json()["errors"]["form"] == "Choose at least one condition."
    taken = post(
        client, f"/s/{sid}/segments/new", {"name": "champions", "op_orders": ">", "value_orders": "1", "action": "save"}
    )
    assert taken.status_code == 400 and "not a built-in segment" in taken.get_data(as_text=True)


def test_only_admins_of_the_site_build_segments(warehouse, site):
    sid = site["site_id"]
    conditions.define_segment(warehouse, sid, "kept", [{"field": "orders", "op": ">", "value": 0}])
    analyst = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    assert analyst.get(f"/s/{sid}/segments/new").status_code == 403
    assert analyst.get(f"/s/{sid}/segments/count.json?op_orders=>&value_orders=1").status_code == 403
    assert post(analyst, f"/s/{sid}/segments/kept/delete").status_code == 403
    assert "New segment" not in analyst.get(f"/s/{sid}/segments").get_data(as_text=True)
    other = new_site(warehouse)
    stranger = signed_in(make_app(warehouse), *make_user(warehouse, "admin", [other["site_id"]]))
    assert stranger.get(f"/s/{sid}/segments/kept/edit").status_code == 403
    assert post(stranger, f"/s/{sid}/segments/kept/delete").status_code == 403
    assert [s["name"] for s in conditions.custom_segments(warehouse, sid)] == ["kept"]
