"""The demo's history goes through the collector as a tracker would, signed as a store's server signs:
its customers still stitch across their two devices, now that unsigned ids are only claims."""

import base64
import datetime as dt

from basirat.demo import retail_events
from collector.loader import Loader
from mining import stitching
from storefront.retail import read_retail
from warehouse.queries import identity as store


def two_device_customers(frame, count: int = 3) -> list[int]:
    orders = frame[~frame["InvoiceNo"].str.startswith("C")]
    parity = orders.assign(device=orders["InvoiceNo"].astype(int) % 2).groupby("CustomerID")["device"].nunique()
    return [int(c) for c in parity[parity == 2].index[:count]]


def test_demo_customers_stitch_across_devices_with_signed_ids(app, warehouse, site):
    frame = read_retail()
    customers = two_device_customers(frame)
    assert len(customers) == 3
    history = frame[frame["CustomerID"].isin(customers)]
    messages = retail_events(history, dt.datetime(2026, 3, 1), site["identity_secret"])
    auth = {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode()}
    client = app.test_client()
    for start in range(0, len(messages), 200):
        assert client.post("/v1/batch", json={"batch": messages[start : start + 200]}, headers=auth).status_code == 200
    Loader(warehouse, app.config["SPOOL_DIR"]).drain()
    stitching.stitch_site(warehouse, site["site_id"])
    for customer in customers:
        person = store.person_of(warehouse, site["site_id"], f"user:cust-{customer}")
        devices = [store.person_of(warehouse, site["site_id"], f"anon:anon-{customer}-{n}") for n in (0, 1)]
        assert person is not None and devices == [person, person]
    claimed = warehouse.query(
        "SELECT count() AS n FROM events WHERE site_id = {s:String} AND user_id != '' AND has(flags, 'claimed')",
        {"s": site["site_id"]},
    )
    assert claimed[0]["n"] == 0
