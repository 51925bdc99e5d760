"""Each dashboard query against pandas on the same generated shop, on both backends, with and without a segment.

People are stitched first (a third of the visitors log in), so the queries' use of the identity map is checked too.
"""

import datetime as dt

import pandas as pd
import pytest

from core import calendars
from mining import stitching
from tests.support import kpi_reference as ref
from tests.support.factories import shop_rows
from warehouse.queries import events, kpis
from warehouse.queries import identity as ids
from warehouse.queries import segments as store

START, END = dt.date(2026, 2, 1), dt.date(2026, 3, 15)
# The site's time zone: +03:30 all year, so many of the shop's evenings fall on the next local day.
ZONE = "Asia/Tehran"


@pytest.fixture(params=[None, "vip"], ids=["everyone", "segment"])
def shop(request, warehouse, site):
    rows = shop_rows(site["site_id"])
    events.insert_events(warehouse, rows)
    stitching.stitch_site(warehouse, site["site_id"])
    stitched = ids.current_map(warehouse, site["site_id"])
    people = dict(zip(stitched["identity"], stitched["person_id"]))
    assert 0 < len(set(people.values())) < len(people)  # some people have two ids
    frame = ref.prepare(events.events_frame(rows).to_dict("records"), people, ZONE)
    members = None
    if request.param:
        members = sorted(frame["person"].unique())[::2]
        stays = pd.DataFrame(
            {
                "segment": "vip",
                "person_id": members,
                "entered_at": pd.Timestamp("2026-01-01"),
                "left_at": pd.Timestamp("1970-01-01"),
                "value": 0.0,
            }
        )
        store.write_memberships(warehouse, site["site_id"], stays)
    return warehouse, site["site_id"], request.param, frame, members


def dated(frame: pd.DataFrame, *columns) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    return out.reset_index(drop=True)


def same(actual: pd.DataFrame, expected: pd.DataFrame, *date_columns):
    actual, expected = dated(actual, *date_columns), dated(expected, *date_columns)
    pd.testing.assert_frame_equal(actual, expected[list(actual.columns)], check_dtype=False, check_exact=False)


def test_every_panel_matches_pandas(shop):
    wh, sid, segment, frame, members = shop
    window = ref.in_range(frame, START, END, members)
    assert len(window) > 50
    z = {"timezone": ZONE}
    same(kpis.visitors(wh, sid, START, END, segment, **z), ref.visitors(window), "date")
    same(kpis.sessions(wh, sid, START, END, segment, **z), ref.sessions(window), "date")
    assert kpis.funnel(wh, sid, START, END, segment, **z) == ref.funnel(window)
    same(kpis.revenue(wh, sid, START, END, segment, **z), ref.revenue(window), "date")
    same(kpis.new_vs_returning(wh, sid, START, END, segment, **z), ref.new_vs_returning(frame, window), "date")
    same(kpis.retention(wh, sid, START, END, segment, **z), ref.retention(frame, START, END, members), "cohort")
    assert kpis.repeat_purchase_rate(wh, sid, START, END, segment, **z) == pytest.approx(ref.repeat_rate(window))
    same(kpis.satisfaction(wh, sid, START, END, segment, **z), ref.satisfaction(window), "month")
    attributed = ref.recommendation_revenue(frame, START, END, members)
    assert attributed["orders"].sum() >= 3
    same(kpis.recommendation_revenue(wh, sid, START, END, segment, **z), attributed, "date")
    # Tehran's days really differ from UTC's here, so the zone is what made the figures match.
    utc = kpis.visitors(wh, sid, START, END, segment)
    assert not dated(utc, "date").equals(dated(kpis.visitors(wh, sid, START, END, segment, **z), "date"))


def test_dashboard_collects_every_panel(warehouse, site):
    events.insert_events(warehouse, shop_rows(site["site_id"], seed=3))
    board = kpis.dashboard(warehouse, site["site_id"], START, END)
    assert set(board) == set(kpis.PANELS)
    assert board["funnel"][0]["people"] >= board["funnel"][-1]["people"] > 0


def test_retention_in_jalali_months(shop):
    """A Jalali site's cohorts are Persian months: the query's buckets match jdatetime's."""
    wh, sid, segment, frame, members = shop
    months = calendars.month_starts(dt.date(2000, 1, 1), dt.date(2030, 1, 1), "jalali")
    orders = frame[frame["event"] == "Order Completed"]
    if members is not None:
        orders = orders[orders["person"].isin(members)]
    month = orders["timestamp"].dt.date.map(lambda d: calendars.month_start(d, "jalali"))
    orders = orders.assign(month=month, cohort=month.groupby(orders["person"]).transform("min"))
    first = calendars.month_start(START, "jalali")
    pairs = orders[(orders["cohort"] >= first) & (orders["cohort"] <= END)][["person", "cohort", "month"]]
    pairs = pairs.drop_duplicates()
    position = {m: n for n, m in enumerate(months)}
    pairs = pairs.assign(months_later=[position[m] - position[c] for m, c in zip(pairs["month"], pairs["cohort"])])
    expected = pairs.groupby(["cohort", "months_later"]).size().reset_index(name="customers")
    actual = kpis.retention(wh, sid, START, END, segment, months=months, timezone=ZONE)
    window = ref.in_range(frame, START, END, members)
    answers = window[(window["event"] == "Feedback Submitted") & window["score"].notna()]
    answers = answers.assign(month=answers["date"].map(lambda d: calendars.month_start(d, "jalali")))
    scored = answers.groupby(["month", "score"]).size().reset_index(name="answers")
    assert scored["month"].nunique() >= 2
    same(kpis.satisfaction(wh, sid, START, END, segment, timezone=ZONE, months=months), scored, "month")
    assert len(expected) >= 2 and set(expected["cohort"]) != set(
        ref.retention(frame, START, END, members)["cohort"]
    )  # the months really differ from Gregorian ones
    same(actual, expected, "cohort")
