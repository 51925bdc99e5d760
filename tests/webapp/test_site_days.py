"""Days are the site's: per-day figures and range boundaries follow its time zone (hand-checked times)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.factories import load, order, tracked
from tests.support.webapp_helpers import make_app, make_user, signed_in
from warehouse.queries import display, kpis, overview, zones
from webapp.insights import kpi_range

TEHRAN = "Asia/Tehran"  # +03:30, no summer time since 2022


def by_day(frame, column: str) -> dict[str, int]:
    return {str(r["date"])[:10]: int(r[column]) for r in frame.to_dict("records")}


def test_an_evening_in_utc_counts_on_the_next_day_in_tehran(warehouse, site):
    sid = site["site_id"]
    load(
        warehouse,
        [
            tracked(sid, dt.datetime(2026, 1, 5, 12, 0), "Product Viewed", "noon"),
            order(sid, dt.datetime(2026, 1, 5, 22, 0), "late", "L-1", 40.0),  # 01:30 on the 6th in Tehran
        ],
    )
    first, last = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
    assert by_day(kpis.visitors(warehouse, sid, first, last), "visitors") == {"2026-01-05": 2}
    assert by_day(kpis.visitors(warehouse, sid, first, last, timezone=TEHRAN), "visitors") == {
        "2026-01-05": 1,
        "2026-01-06": 1,
    }
    assert by_day(kpis.revenue(warehouse, sid, first, last, timezone=TEHRAN), "orders") == {"2026-01-06": 1}
    assert by_day(kpis.sessions(warehouse, sid, first, last, timezone=TEHRAN), "sessions") == {
        "2026-01-05": 1,
        "2026-01-06": 1,
    }
    # The dashboard's cards and chart count the same local day as the KPI page.
    sixth = kpis.totals(warehouse, sid, last, last, TEHRAN)
    assert (sixth["orders"], sixth["events"]) == (1, 1)
    assert overview.summary(warehouse, sid, 1, last, TEHRAN) == sixth
    assert overview.daily_events(warehouse, sid, 2, TEHRAN, last) == [
        {"day": dt.date(2026, 1, 5), "events": 1},
        {"day": dt.date(2026, 1, 6), "events": 1},
    ]


def test_this_month_on_a_jalali_tehran_site_starts_at_local_midnight(warehouse, site):
    sid = site["site_id"]
    # 10 January 2026 is 20 Dey 1404; 1 Dey 1404 is 22 December 2025, which begins in Tehran at
    # 20:30 UTC on the 21st.
    start, end, preset = kpi_range({"range": "this_month"}, "jalali", dt.date(2026, 1, 10))
    assert (start, end, preset) == (dt.date(2025, 12, 22), dt.date(2026, 1, 10), "this_month")
    assert zones.midnight(start, TEHRAN) == dt.datetime(2025, 12, 21, 20, 30)
    load(
        warehouse,
        [
            order(sid, dt.datetime(2025, 12, 21, 20, 29), "azar", "A-1", 10.0),  # 23:59 on 30 Azar
            order(sid, dt.datetime(2025, 12, 21, 20, 31), "dey", "D-1", 25.0),  # 00:01 on 1 Dey
            order(sid, dt.datetime(2026, 1, 10, 20, 29), "today", "T-1", 5.0),  # 23:59 on 20 Dey
            order(sid, dt.datetime(2026, 1, 10, 20, 31), "tomorrow", "T-2", 7.0),  # 21 Dey: after the range
        ],
    )
    month = kpis.totals(warehouse, sid, start, end, TEHRAN)
    assert (month["orders"], month["revenue"]) == (2, 30.0)
    # Cohorts by Jalali month of the local day: the 20:29 buyer is Azar's, the other three Dey's.
    months = [dt.date(2025, 11, 22), dt.date(2025, 12, 22), dt.date(2026, 1, 21)]
    cohorts = kpis.retention(warehouse, sid, dt.date(2025, 11, 22), end, months=months, timezone=TEHRAN)
    assert {str(c)[:10]: int(n) for c, n in zip(cohorts["cohort"], cohorts["customers"])} == {
        "2025-11-22": 1,
        "2025-12-22": 3,
    }


def test_an_order_sent_twice_across_a_quarter_hour_counts_once(warehouse, site):
    sid = site["site_id"]
    twice = [order(sid, dt.datetime(2026, 1, 5, 12, 14, 50), "dev", "O-1", 9.0, message_id=f"m{n}") for n in (1, 2)]
    twice[1]["timestamp"] = dt.datetime(2026, 1, 5, 12, 15, 10)  # the thank-you page reloaded
    load(warehouse, twice)
    day = dt.date(2026, 1, 5)
    assert kpis.totals(warehouse, sid, day, day, TEHRAN)["orders"] == 1
    assert by_day(kpis.revenue(warehouse, sid, day, day, timezone=TEHRAN), "orders") == {"2026-01-05": 1}
    assert kpis.repeat_purchase_rate(warehouse, sid, day, day, timezone=TEHRAN)["repeat_buyers"] == 0


def test_a_zone_outside_the_list_is_refused(warehouse, site):
    with pytest.raises(ValueError, match="time zone"):
        kpis.totals(warehouse, site["site_id"], dt.date(2026, 1, 1), dt.date(2026, 1, 2), "UTC') OR 1=1 --")


def test_the_kpi_page_reads_jalali_fields_and_explains_a_bad_one(warehouse, site):
    sid = site["site_id"]
    display.save_site_display(
        warehouse, sid, {"calendar": "jalali", "timezone": TEHRAN, "currency": "IRR", "money_unit": "toman"}
    )
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    page = client.get(f"/s/{sid}/kpis?from=۱۴۰۴-۱۰-۰۱&to=1404-10-20").get_data(as_text=True)
    assert "1404-10-01 to 1404-10-20" in page
    assert "data-jalali-picker=" in page and "datepicker.js" in page and 'type="date"' not in page
    response = client.get(f"/s/{sid}/kpis?from=1404-13-40&to=1404-10-20")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "“1404-13-40” is not a date of the Jalali calendar" in page
    assert 'value="1404-13-40"' in page and 'aria-invalid="true" aria-describedby="error-from"' in page
    page = client.get(f"/s/{sid}/kpis?from=99999-01-01&to=1300-01-01").get_data(as_text=True)
    assert "is not a date of the Jalali calendar" in page and "out of range" in page


def test_a_gregorian_site_keeps_the_browsers_date_input(warehouse, site):
    sid = site["site_id"]
    client = signed_in(make_app(warehouse), *make_user(warehouse, "analyst", [sid]))
    page = client.get(f"/s/{sid}/kpis?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    assert 'type="date" name="from" value="2026-01-01"' in page and "data-jalali-picker" not in page
    assert "datepicker.js" not in page
    page = client.get(f"/s/{sid}/kpis?from=2026-02-30&to=2026-01-31").get_data(as_text=True)
    assert "“2026-02-30” is not a date: type it as YYYY-MM-DD" in page
