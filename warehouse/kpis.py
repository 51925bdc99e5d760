"""The store's KPIs, computed in ClickHouse: one query per dashboard panel.

Panels that need only per-day counts (visitors, revenue, new vs returning,
retention, repeat purchases) read ``activity_days``, the daily rollup a
materialized view keeps; sessions, the funnel and satisfaction need event
times or scores and read ``events``. An order is counted once per
``Order Completed`` event with its own id.

Every function takes a site, an inclusive date range (UTC days) and an
optional segment: with a segment, only its current members' events count.
Filters are fixed fragments; values are bound parameters.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .connection import Warehouse
from .segments import person_expr

PERSON = person_expr()
FUNNEL_STEPS = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
FUNNEL_WINDOW_SECONDS = 7 * 86400
SESSION_GAP_SECONDS = 30 * 60
RANGE = (
    "site_id = {site_id:String} AND is_bot = 0 "
    "AND toDate(timestamp) >= {start:Date} AND toDate(timestamp) <= {end:Date}"
)
IN_SEGMENT = f"""
 AND {PERSON} IN (
    SELECT person_id FROM segment_members
    WHERE site_id = {{site_id:String}} AND segment = {{segment:String}}
    GROUP BY person_id, entered_at
    HAVING argMax(left_at, version) = toDateTime(0, 'UTC'))"""


DAYS = "site_id = {site_id:String} AND date >= {start:Date} AND date <= {end:Date}"


def _filter(segment: str | None) -> str:
    return RANGE + (IN_SEGMENT if segment else "")


def _days(segment: str | None) -> str:
    """The same filter on the daily rollup (``activity_days``)."""
    return DAYS + (IN_SEGMENT if segment else "")


def _params(site_id: str, start: dt.date, end: dt.date, segment: str | None, **extra) -> dict:
    return {"site_id": site_id, "start": start, "end": end, "segment": segment or "", **extra}


def visitors(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None):
    """Distinct people and events per day."""
    return warehouse.query_df(
        f"""
        SELECT date, uniqExact({PERSON}) AS visitors, sum(event_count) AS events
        FROM activity_days WHERE {_days(segment)}
        GROUP BY date ORDER BY date
        """,
        _params(site_id, start, end, segment),
    )


def sessions(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None):
    """Visits per day: a person's events more than 30 minutes apart start a new visit (dated by its start)."""
    return warehouse.query_df(
        f"""
        SELECT toDate(toDateTime(start, 'UTC')) AS date, count() AS sessions
        FROM (
            SELECT arrayJoin(arrayFilter((t, p) -> t - p > {SESSION_GAP_SECONDS}, times,
                                         arrayPushFront(arrayPopBack(times), 0))) AS start
            FROM (
                SELECT {PERSON} AS person_id, arraySort(groupArray(toUInt32(timestamp))) AS times
                FROM events WHERE {_filter(segment)}
                GROUP BY person_id
            )
        )
        GROUP BY date ORDER BY date
        """,
        _params(site_id, start, end, segment),
    )


def funnel(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None) -> list:
    """People reaching each step in order (view → cart → checkout → order) within a week of their view.

    Steps that share one second have no defined order (timestamps are whole seconds).
    """
    steps = ", ".join(f"event = '{step}'" for step in FUNNEL_STEPS)
    reached = ", ".join(f"countIf(level >= {i + 1}) AS step{i + 1}" for i in range(len(FUNNEL_STEPS)))
    row = warehouse.query(
        f"""
        SELECT {reached}
        FROM (
            SELECT {PERSON} AS person_id, windowFunnel({FUNNEL_WINDOW_SECONDS})(timestamp, {steps}) AS level
            FROM events
            WHERE {_filter(segment)} AND event IN ({", ".join(f"'{s}'" for s in FUNNEL_STEPS)})
            GROUP BY person_id
        )
        """,
        _params(site_id, start, end, segment),
    )[0]
    return [{"step": step, "people": int(row[f"step{i + 1}"])} for i, step in enumerate(FUNNEL_STEPS)]


def revenue(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None):
    """Orders, revenue and average order value per day."""
    return warehouse.query_df(
        f"""
        SELECT date, orders, sales AS revenue, sales / orders AS average_order_value
        FROM (
            SELECT date, sum(order_count) AS orders, sum(order_revenue) AS sales
            FROM activity_days WHERE {_days(segment)}
            GROUP BY date
            HAVING orders > 0
        )
        ORDER BY date
        """,
        _params(site_id, start, end, segment),
    )


def new_vs_returning(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None):
    """Per day, visitors seen for the first time ever that day, and those seen on an earlier day."""
    return warehouse.query_df(
        f"""
        SELECT date, countIf(date = first_day) AS new_visitors, countIf(date > first_day) AS returning_visitors
        FROM (
            SELECT DISTINCT date, {PERSON} AS person_id
            FROM activity_days WHERE {_days(segment)}
        ) AS days
        ANY LEFT JOIN (
            SELECT {PERSON} AS person_id, min(date) AS first_day
            FROM activity_days WHERE site_id = {{site_id:String}}
            GROUP BY person_id
        ) AS firsts USING person_id
        GROUP BY date ORDER BY date
        """,
        _params(site_id, start, end, segment),
    )


def retention(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None):
    """Customers by month of first order (cohorts starting in the range) still ordering N months later."""
    segment_filter = IN_SEGMENT if segment else ""
    return warehouse.query_df(
        f"""
        SELECT cohort, toRelativeMonthNum(month) - toRelativeMonthNum(cohort) AS months_later,
               count() AS customers
        FROM (
            SELECT {PERSON} AS person_id, min(toStartOfMonth(date)) AS cohort,
                   groupUniqArray(toStartOfMonth(date)) AS months
            FROM activity_days
            WHERE site_id = {{site_id:String}} AND order_count > 0{segment_filter}
            GROUP BY person_id
            HAVING cohort >= toStartOfMonth({{start:Date}}) AND cohort <= {{end:Date}}
        )
        ARRAY JOIN months AS month
        GROUP BY cohort, months_later ORDER BY cohort, months_later
        """,
        _params(site_id, start, end, segment),
    )


def repeat_purchase_rate(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment=None) -> dict:
    """Share of the range's buyers who ordered at least twice in it."""
    row = warehouse.query(
        f"""
        SELECT count() AS buyers, countIf(orders >= 2) AS repeat_buyers,
               if(count() = 0, 0, countIf(orders >= 2) / count()) AS rate
        FROM (
            SELECT {PERSON} AS person_id, sum(order_count) AS orders
            FROM activity_days WHERE {_days(segment)} AND order_count > 0
            GROUP BY person_id
        )
        """,
        _params(site_id, start, end, segment),
    )[0]
    return {"buyers": int(row["buyers"]), "repeat_buyers": int(row["repeat_buyers"]), "rate": float(row["rate"])}


def satisfaction(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None):
    """Feedback scores per month: how many answers gave each score, and the month's mean."""
    return warehouse.query_df(
        f"""
        SELECT toStartOfMonth(timestamp) AS month, assumeNotNull(score) AS score, count() AS answers
        FROM events WHERE {_filter(segment)} AND event = 'Feedback Submitted' AND score IS NOT NULL
        GROUP BY month, score ORDER BY month, score
        """,
        _params(site_id, start, end, segment),
    )


PANELS = {
    "visitors": visitors,
    "sessions": sessions,
    "funnel": funnel,
    "revenue": revenue,
    "new_vs_returning": new_vs_returning,
    "retention": retention,
    "repeat_purchase_rate": repeat_purchase_rate,
    "satisfaction": satisfaction,
}


def dashboard(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None) -> dict:
    """Every panel, as plain rows (what the admin's charts and the bench read)."""
    out = {}
    for name, panel in PANELS.items():
        value = panel(warehouse, site_id, start, end, segment)
        out[name] = value.to_dict("records") if isinstance(value, pd.DataFrame) else value
    return out


def raw_activity(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Every event's person and time in the range: what a dashboard computed in Python would have to fetch."""
    return warehouse.query_df(
        f"SELECT {PERSON} AS person_id, timestamp FROM events WHERE {RANGE}", _params(site_id, start, end, None)
    )
