"""One number per question: the dashboard's cards and the KPI page agree on the same days."""

import datetime as dt
import re

from mining import stitching
from tests.support.factories import load, order, tracked
from tests.support.webapp_helpers import make_app, make_user, signed_in
from warehouse.queries import kpis, overview


def figures(html: str) -> dict[str, str]:
    found = re.findall(r'figure-label">([^<]+)</div>\s*<div class="figure-value">([^<]+)', html)
    return {label.strip(): value.strip() for label, value in found}


def test_dashboard_and_kpis_count_the_same_orders_revenue_and_people(warehouse, site):
    sid = site["site_id"]
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    today = now.date()
    rows = [
        order(sid, now - dt.timedelta(days=2), "phone-1", "A-1", 30.0, user_id="ann"),
        order(sid, now - dt.timedelta(days=2), "laptop-1", "A-2", 20.0, user_id="ann"),  # ann again
        order(sid, now - dt.timedelta(days=5), "dev-b", "B-1", 12.5),
        order(sid, now - dt.timedelta(days=5), "crawler", "X-1", 99.0, is_bot=1),  # a bot: nowhere
        order(sid, now - dt.timedelta(days=45), "dev-c", "C-1", 7.0),  # before the 30 days
        tracked(sid, now - dt.timedelta(days=29, hours=-1), "Product Viewed", "dev-d"),
    ]
    load(warehouse, rows)
    stitching.stitch_site(warehouse, sid)
    start = today - dt.timedelta(days=29)
    dashboard = overview.summary(warehouse, sid, 30, today)
    assert dashboard == kpis.totals(warehouse, sid, start, today)
    assert (dashboard["orders"], dashboard["revenue"], dashboard["visitors"]) == (3, 62.5, 3)  # ann, dev-b, dev-d

    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    cards = figures(client.get(f"/s/{sid}/").get_data(as_text=True))
    kpi_cards = figures(client.get(f"/s/{sid}/kpis?start={start}&end={today}").get_data(as_text=True))
    assert cards["Orders"] == kpi_cards["Orders"] == "3"
    assert cards["Revenue"] == kpi_cards["Revenue"] == "62.50"
    assert cards["Visitors"] == "3"
