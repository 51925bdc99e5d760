"""The whole demo history through the collector: with its browsing, the funnel narrows at every step."""

import base64
import datetime as dt

from basirat.demo import browsing_events, retail_events
from collector.loader import Loader
from mining import stitching
from storefront.retail import read_retail
from warehouse.queries import kpis


def test_demo_funnel_narrows_and_carts_are_left_behind(app, warehouse, site):
    retail, end = read_retail(), dt.datetime(2026, 3, 1)
    messages = sorted(
        retail_events(retail, end, site["identity_secret"]) + browsing_events(retail, end),
        key=lambda m: m["timestamp"],
    )
    auth = {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()}
    client = app.test_client()
    for start in range(0, len(messages), 500):
        assert client.post("/v1/batch", json={"batch": messages[start : start + 500]}, headers=auth).status_code == 200
    Loader(warehouse, app.config["SPOOL_DIR"]).drain()
    stitching.stitch_site(warehouse, site["site_id"])
    steps = [s["people"] for s in kpis.funnel(warehouse, site["site_id"], dt.date(2024, 12, 1), end.date())]
    assert steps[0] > steps[1] > steps[2] > steps[3] > 0, steps
    searched = warehouse.query(
        "SELECT count() AS n FROM events WHERE site_id = {s:String} AND event = 'Products Searched'",
        {"s": site["site_id"]},
    )
    assert searched[0]["n"] > 100
