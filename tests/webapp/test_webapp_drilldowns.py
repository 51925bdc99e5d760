"""KPI drill-downs: each figure's list holds exactly the people or orders the figure counts."""

import datetime as dt
import re

from mining import membership
from tests.support.factories import shop_rows
from tests.support.webapp_helpers import make_app, make_user, signed_in
from warehouse.queries import drilldown, events
from warehouse.queries import kpis as kpi_store

START, END = dt.date(2026, 2, 1), dt.date(2026, 3, 15)


def test_lists_match_the_figures_they_explain(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, shop_rows(sid))
    membership.refresh_site(warehouse, sid, progress=lambda _: None)
    for segment, zone in ((None, "UTC"), ("repeat_buyers", "UTC"), (None, "Asia/Tehran")):
        args, tz = (warehouse, sid, START, END, segment), {"timezone": zone}
        totals_orders = int(kpi_store.revenue(*args, **tz)["orders"].sum())
        assert drilldown.order_count(*args, **tz) == totals_orders > 0
        repeat = kpi_store.repeat_purchase_rate(*args, **tz)
        assert drilldown.people_count(warehouse, sid, "customers", START, END, segment, **tz) == repeat["buyers"]
        assert drilldown.people_count(warehouse, sid, "repeat", START, END, segment, **tz) == repeat["repeat_buyers"]
        for i, step in enumerate(kpi_store.funnel(*args, **tz)):
            assert drilldown.people_count(warehouse, sid, f"step{i + 1}", START, END, segment, **tz) == step["people"]
        if segment is None:
            totals = kpi_store.totals(warehouse, sid, START, END, **tz)
            assert drilldown.people_count(warehouse, sid, "visitors", START, END, **tz) == totals["visitors"]
            assert drilldown.order_count(*args, **tz) == totals["orders"]
    people = drilldown.people(warehouse, sid, "customers", START, END, sort="orders", limit=500)
    assert [p["orders"] for p in people] == sorted((p["orders"] for p in people), reverse=True)
    assert "crawler" not in {
        p["person_id"] for p in drilldown.people(warehouse, sid, "visitors", START, END, limit=500)
    }


def test_kpi_figures_link_to_named_sortable_exportable_lists(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, shop_rows(sid))
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    kpis = client.get(f"/s/{sid}/kpis?from=2026-02-01&to=2026-03-15").get_data(as_text=True)
    assert f"/s/{sid}/kpis/orders?from=2026-02-01&amp;to=2026-03-15" in kpis
    assert "show=step4" in kpis and "show=visitors" in kpis and "show=customers" in kpis
    orders = client.get(f"/s/{sid}/kpis/orders?from=2026-02-01&to=2026-03-15&sort=revenue&dir=asc")
    page = orders.get_data(as_text=True)
    assert orders.status_code == 200 and 'aria-current="page">KPIs<' in page and 'aria-sort="ascending"' in page
    assert "data-order=" in page and f'href="/s/{sid}/people/' in page
    buyers = client.get(f"/s/{sid}/kpis/people?show=customers&from=2026-02-01&to=2026-03-15").get_data(as_text=True)
    assert "Customers who ordered" in buyers and "data-person=" in buyers
    export = client.get(f"/s/{sid}/kpis/people.csv?show=step2&from=2026-02-01&to=2026-03-15")
    header = export.get_data(as_text=True).splitlines()[0]
    assert export.mimetype == "text/csv" and header.startswith("person_id,name,email,phone") and "days_active" in header
    order_csv = client.get(f"/s/{sid}/kpis/orders.csv?from=2026-02-01&to=2026-03-15").get_data(as_text=True)
    assert order_csv.splitlines()[0].endswith("order_id,ordered_at,revenue,products")
    cell = re.search(r'href="(/s/\w+/kpis/cohort\?[^"]+later=1[^"]*)"', kpis).group(1).replace("&amp;", "&")
    cohort = client.get(cell).get_data(as_text=True)
    assert "Customers who first ordered in" in cohort and "months later" in cohort and "data-person=" in cohort
    assert 'aria-current="page">KPIs<' in cohort and "Orders to date" in cohort
    assert client.get(cell.replace("later=1", "later=x")).status_code == 404
    assert client.get(f"/s/{sid}/kpis/cohort?cohort=junk&later=0").status_code == 404
    assert client.get(cell.replace("/kpis/cohort?", "/kpis/cohort.csv?")).mimetype == "text/csv"
    assert client.get(f"/s/{sid}/kpis/people?show=<script>").status_code == 404
    assert client.get(f"/s/{sid}/kpis/people?show=visitors&from=junk&segment=nope&sort=x").status_code == 200


def test_each_retention_cell_lists_its_people(warehouse, site):
    sid = site["site_id"]
    events.insert_events(warehouse, shop_rows(sid))
    months = [
        dt.date(2025, 12, 22),
        dt.date(2026, 1, 21),
        dt.date(2026, 2, 20),
        dt.date(2026, 3, 21),
        dt.date(2026, 4, 21),
    ]
    for bounds in (None, months):
        cells = kpi_store.retention(warehouse, sid, dt.date(2026, 1, 1), END, months=bounds)
        assert len(cells) > 3
        for cell in cells.to_dict("records"):
            cohort, later = dt.date.fromisoformat(str(cell["cohort"])[:10]), int(cell["months_later"])
            count = drilldown.cohort_count(warehouse, sid, cohort, later, months=bounds)
            assert count == int(cell["customers"]), (bounds, cell)
        listed = drilldown.cohort_people(warehouse, sid, cohort, later, months=bounds, sort="orders", limit=500)
        assert len(listed) == count and all(p["orders"] >= 1 for p in listed)
