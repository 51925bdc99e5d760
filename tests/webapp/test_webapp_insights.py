"""Admin analytics pages: KPIs, segments with members and export, product audiences."""

import datetime as dt

from mining import membership
from tests.support.factories import order, shop_rows, tracked
from tests.support.webapp_helpers import make_app, make_user, signed_in
from warehouse.queries import events


def client_for(warehouse, site_id):
    email, password = make_user(warehouse, "analyst", [site_id])
    return signed_in(make_app(warehouse), email, password)


def test_kpi_page_shows_every_panel_for_a_range_and_segment(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, shop_rows(sid))
    membership.refresh_site(warehouse, sid, progress=lambda _: None)
    client = client_for(warehouse, sid)
    page = client.get(f"/s/{sid}/kpis?from=2026-02-01&to=2026-03-15").get_data(as_text=True)
    for chart in ("kpi-traffic", "kpi-revenue", "kpi-aov", "kpi-new", "kpi-satisfaction", "kpi-recommendations"):
        assert f'id="{chart}"' in page
    assert "Checkout Started" in page and "Repeat purchase rate" in page and "2026-02-01 to 2026-03-15" in page
    assert "From recommendations" in page
    assert "No item was bought within 7 days" not in page  # shop_rows has attributed orders in this range
    filtered = client.get(f"/s/{sid}/kpis?from=2026-02-01&to=2026-03-15&segment=repeat_buyers")
    assert filtered.status_code == 200 and "segment Repeat buyers" in filtered.get_data(as_text=True)
    assert client.get(f"/s/{sid}/kpis?from=junk&segment=<script>").status_code == 200
    quiet = client.get(f"/s/{sid}/kpis?from=2020-01-01&to=2020-01-31").get_data(as_text=True)
    assert "No visits or orders from 2020-01-01 to 2020-01-31" in quiet and "data-chart" not in quiet


def test_segments_list_members_and_csv_export(warehouse, site):
    sid = site["site_id"]
    t0 = dt.datetime(2026, 3, 1, 9)
    events.insert_events(
        warehouse,
        [
            tracked(sid, t0, "Product Added", "<b>cart</b>", product_id="mug", price=12.5),
            order(sid, t0 - dt.timedelta(days=3), "buyer", "o1", 8.0, items=("mug", "tea")),
            tracked(sid, t0 + dt.timedelta(hours=5), "Page Viewed", "later"),
        ],
    )
    membership.refresh_site(warehouse, sid, progress=lambda _: None)
    client = client_for(warehouse, sid)
    listing = client.get(f"/s/{sid}/segments").get_data(as_text=True)
    assert "cart_abandoners" in listing and "new_visitors" in listing
    # Human names, a one-line definition each, values with what they count
    assert "Cart abandoners" in listing and "more than an hour ago and within 30 days" in listing
    assert "12.50 left in the cart" in listing and "days active" in listing
    detail = client.get(f"/s/{sid}/segments/cart_abandoners").get_data(as_text=True)
    assert "&lt;b&gt;cart&lt;/b&gt;" in detail and "<b>cart</b>" not in detail and 'id="segment-trend"' in detail
    export = client.get(f"/s/{sid}/segments/cart_abandoners/export.csv")
    assert export.mimetype == "text/csv" and "attachment" in export.headers["Content-Disposition"]
    lines = export.get_data(as_text=True).splitlines()
    assert (
        lines[0] == "person_id,name,email,phone,user_ids,customer_ids,member_since,open_cart_value"
        and lines[1].startswith("<b>cart</b>,")
        and lines[1].endswith(",12.5")
    )
    assert client.get(f"/s/{sid}/segments/nothing_like_this").status_code == 404
    audience = client.get(f"/s/{sid}/audience?product=tea").get_data(as_text=True)
    assert "&lt;b&gt;cart&lt;/b&gt;" in audience and "Export CSV" in audience
    csv = client.get(f"/s/{sid}/audience?product=tea&format=csv").get_data(as_text=True)
    header = "person_id,name,email,phone,user_ids,customer_ids,score,because_of,last_interaction"
    assert csv.splitlines()[0] == header and "<b>cart</b>" in csv
