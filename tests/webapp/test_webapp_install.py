"""The installation check on a site's settings page: what the store has sent, and what to do next."""

from __future__ import annotations

from tests.support.factories import event, load, page
from tests.support.webapp_helpers import make_app, make_user, signed_in
from warehouse.queries.install import install_status


def test_a_new_site_says_what_to_do_next(warehouse, site):
    client = signed_in(make_app(warehouse), *make_user(warehouse, "admin", [site["site_id"]]))
    body = client.get(f"/s/{site['site_id']}/settings").get_data(as_text=True)
    assert "Installation check" in body and "No event received yet." in body
    assert body.count("None yet.") == 3 and "data-ecommerce" in body


def test_the_check_counts_what_the_store_sent_and_from_where(warehouse, site):
    sid = site["site_id"]
    load(
        warehouse,
        [
            page(sid, 0, path="/"),
            page(sid, 1, path="/products/lamp"),
            page(sid, 2, path="/products/lamp"),
            event(sid, 2.5, path="/products/lamp", event="Product Viewed", library_name="basirat.js"),
            event(sid, 3, path="/cart", event="Product Added"),
            event(sid, 4, path="/login", type="identify", event=""),
            event(sid, 9, path="", event="Order Completed", library_name="basirat-import"),  # an import, not the store
        ],
    )
    status = install_status(warehouse, sid)
    assert (status["events"], status["page_views"], status["ecommerce"], status["identifies"]) == (6, 3, 2, 1)
    assert status["ecommerce_events"] == ["Product Added", "Product Viewed"]
    assert [p["path"] for p in status["pages"]["page"]] == ["/products/lamp", "/"]
    assert status["last_event"].minute == 4

    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    fragment = client.get(f"/s/{sid}/settings/install").get_data(as_text=True)
    assert "None yet." not in fragment and "<code>/products/lamp</code>" in fragment
    assert "Seen: Product Added, Product Viewed." in fragment
    assert "Last event received 2026-03-02 09:04:00 UTC" in fragment


def test_kpis_of_a_range_without_data_say_what_to_do_instead_of_drawing_empty_charts(warehouse, site):
    sid = site["site_id"]
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    empty = client.get(f"/s/{sid}/kpis?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "No visits or orders from 2026-03-01 to 2026-03-31" in empty and "data-chart" not in empty
    load(warehouse, [page(sid, 0, path="/")])
    shown = client.get(f"/s/{sid}/kpis?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert "No visits or orders" not in shown and "data-chart" in shown
    assert "No item was bought within 7 days of a click on a recommendation" in shown
