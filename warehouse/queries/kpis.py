"""The store's KPIs, computed in ClickHouse: one query per dashboard panel.

Visitors, sessions, the funnel, revenue, new vs returning, retention, repeat
purchases and satisfaction read ``visit_slots``: each visitor's quarter hour
(counts, feedback scores, bursts of activity, funnel steps) as a materialized
view keeps it, with the ids hashed so people are resolved and counted on
numbers. Recommendation-driven revenue reads ``attribution_events``.
``visit_slots`` bakes in the funnel's steps and window below: changing them
takes a migration. The visit gap is chosen when read (``SESSION_TIMEOUT_MINUTES``).
An order is counted once per id (``order_id``, else the event's message id)
over the range, or the day for per-day figures.

Every function takes a site, an inclusive date range, an optional segment
(only its current members' events count) and the site's time zone: the range
runs from local midnight to local midnight and every figure is dated by the
local day its slot (or event) falls on. A quarter hour lies on one local day
in every zone, so the per-day figures are exact.
People are the identity map's (``person_map``): rows are resolved to their
person, then combined per person. Filters are fixed fragments; values are
bound parameters.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from warehouse.engine.connection import Warehouse

from .person_map import EVENT_RAW_PERSON, resolve_keys, resolve_web
from .recommendations import attributed_items
from .zones import check_zone, midnight

FUNNEL_STEPS = ("Product Viewed", "Product Added", "Checkout Started", "Order Completed")
FUNNEL_WINDOW_SECONDS = 7 * 86400
# visit_days cuts each id's events into bursts at gaps over this many seconds:
# bursts join into the visits of any gap at least as long.
BURST_SECONDS = 60
RANGE = (
    "site_id = {site_id:String} AND is_bot = 0 "
    "AND timestamp >= {start_at:DateTime('UTC')} AND timestamp < {end_at:DateTime('UTC')}"
)
SLOTS = "site_id = {site_id:String} AND slot >= {start_at:DateTime('UTC')} AND slot < {end_at:DateTime('UTC')}"
# A slot's day in the site's zone; the zone's name is bound, and checked by ``zones.check_zone``.
DAY = "toDate(toTimeZone(slot, {timezone:String}))"
MEMBERS = """
    SELECT person_id FROM segment_members
    WHERE site_id = {site_id:String} AND segment = {segment:String}
    GROUP BY person_id, entered_at
    HAVING argMax(left_at, version) = toDateTime(0, 'UTC')"""


def _keyed(per_ids: str, columns: list[str], segment: str | None) -> str:
    """Rows of ``visit_slots`` with their ``person_key``, only the segment's current members' when one is given."""
    rows = resolve_keys(per_ids, columns)
    if not segment:
        return rows
    return f"SELECT * FROM ({rows}) WHERE person_key IN (SELECT cityHash64(person_id) FROM ({MEMBERS}))"


def _people(per_ids: str, columns: list[str], segment: str | None) -> str:
    """Rows of ``per_ids`` with their person, only the segment's current members' when one is given."""
    rows = resolve_web(per_ids, columns)
    if not segment:
        return rows
    return f"SELECT * FROM ({rows}) WHERE person_id IN ({MEMBERS})"


def range_params(site_id: str, start: dt.date, end: dt.date, segment: str | None, timezone: str, **extra) -> dict:
    """A range's bound parameters: from local midnight to local midnight in the site's zone (the drill-downs
    and the dashboard bind the same)."""
    return {
        "site_id": site_id,
        "start": start,
        "end": end,
        "start_at": midnight(start, timezone),
        "end_at": midnight(end + dt.timedelta(days=1), timezone),
        "timezone": check_zone(timezone),
        "segment": segment or "",
        **extra,
    }


def visitors(
    warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None, timezone: str = "UTC"
):
    """Distinct people and events per day."""
    per_ids = f"SELECT identity_key, raw_key, {DAY} AS date, event_count FROM visit_slots WHERE {SLOTS}"
    return warehouse.query_df(
        f"""
        SELECT date, uniqExact(person_key) AS visitors, sum(event_count) AS events
        FROM ({_keyed(per_ids, ["date", "event_count"], segment)})
        GROUP BY date ORDER BY date
        """,
        range_params(site_id, start, end, segment, timezone),
    )


def totals(warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, timezone: str = "UTC") -> dict:
    """Events, people, orders and revenue over the range: the dashboard's cards, by the KPI page's definitions.

    The same ``visit_slots`` rows the KPI series sum (bots left out, the
    site's days, an order counted once per id, people through the identity
    map), so the two pages cannot disagree.
    """
    per_ids = f"SELECT identity_key, raw_key, event_count, order_keys, order_revenue FROM visit_slots WHERE {SLOTS}"
    row = warehouse.query(
        f"""
        SELECT sum(event_count) AS events, uniqExact(person_key) AS visitors,
               uniqExactArray(order_keys) AS orders, sum(order_revenue) AS revenue
        FROM ({_keyed(per_ids, ["event_count", "order_keys", "order_revenue"], None)})
        """,
        range_params(site_id, start, end, None, timezone),
    )
    row = row[0] if row else {}
    return {
        "events": int(row.get("events") or 0),
        "visitors": int(row.get("visitors") or 0),
        "orders": int(row.get("orders") or 0),
        "revenue": float(row.get("revenue") or 0.0),
    }


def sessions(
    warehouse: Warehouse,
    site_id: str,
    start: dt.date,
    end: dt.date,
    segment: str | None = None,
    timezone: str = "UTC",
    timeout_minutes: int = 30,
):
    """Visits per day: a person's events more than ``timeout_minutes`` apart start a new visit (dated by its start).

    ``timeout_minutes`` is ``SESSION_TIMEOUT_MINUTES``, the gap the sessions
    job cuts visits at. ``visit_slots`` holds each id's bursts (events at most
    ``BURST_SECONDS`` apart); a person's bursts, from all their ids and slots,
    are swept in time order, each open until the gap after its last event: a
    burst starting while none is open starts a visit. The same count as
    walking the person's events, for any gap of at least ``BURST_SECONDS``.
    """
    gap = int(timeout_minutes) * 60
    if gap < BURST_SECONDS:
        raise ValueError(f"a visit gap under {BURST_SECONDS} s is finer than visit_slots keeps")
    per_ids = f"SELECT identity_key, raw_key, starts, ends FROM visit_slots WHERE {SLOTS}"
    return warehouse.query_df(
        f"""
        SELECT toDate(toDateTime(point.1, {{timezone:String}})) AS date, count() AS sessions
        FROM (
            SELECT arrayJoin(arrayFilter((p, depth) -> p.2 = 1 AND depth = 1, points,
                                         arrayCumSum(arrayMap(p -> p.2, points)))) AS point
            FROM (
                SELECT arraySort(arrayConcat(
                           arrayMap(t -> (toUInt64(t), toInt8(1)), groupArrayArray(starts)),
                           arrayMap(t -> (toUInt64(t) + {{closes:UInt64}}, toInt8(-1)), groupArrayArray(ends))
                       )) AS points
                FROM ({_keyed(per_ids, ["starts", "ends"], segment)})
                GROUP BY person_key
            )
        )
        GROUP BY date ORDER BY date
        """,
        range_params(site_id, start, end, segment, timezone, closes=gap + 1),
    )


def funnel(
    warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None, timezone: str = "UTC"
) -> list:
    """People reaching each step in order (view → cart → checkout → order) within a week of their view.

    ``visit_slots`` keeps each id's steps of a slot as a ``windowFunnel``
    state; merging a person's states is one pass over all their events,
    without reading the events. Steps that share one second have no defined
    order (timestamps are whole seconds).
    """
    reached = ", ".join(f"countIf(level >= {i + 1}) AS step{i + 1}" for i in range(len(FUNNEL_STEPS)))
    per_ids = f"SELECT identity_key, raw_key, progress FROM visit_slots WHERE {SLOTS}"
    row = warehouse.query(
        f"""
        SELECT {reached}
        FROM (
            SELECT person_key, windowFunnelMerge({FUNNEL_WINDOW_SECONDS})(progress) AS level
            FROM ({_keyed(per_ids, ["progress"], segment)})
            GROUP BY person_key
        )
        """,
        range_params(site_id, start, end, segment, timezone),
    )[0]
    return [{"step": step, "people": int(row[f"step{i + 1}"])} for i, step in enumerate(FUNNEL_STEPS)]


def revenue(
    warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None, timezone: str = "UTC"
):
    """Orders, revenue and average order value per day."""
    per_ids = (
        f"SELECT identity_key, raw_key, {DAY} AS date, order_keys, order_revenue FROM visit_slots "
        f"WHERE {SLOTS} AND order_count > 0"
    )
    # Without a segment nobody needs resolving: the daily totals are read as they are.
    rows = _keyed(per_ids, ["date", "order_keys", "order_revenue"], segment) if segment else per_ids
    return warehouse.query_df(
        f"""
        SELECT date, orders, sales AS revenue, sales / orders AS average_order_value
        FROM (
            SELECT date, uniqExactArray(order_keys) AS orders, sum(order_revenue) AS sales
            FROM ({rows})
            GROUP BY date
        )
        ORDER BY date
        """,
        range_params(site_id, start, end, segment, timezone),
    )


def new_vs_returning(
    warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment: str | None = None, timezone: str = "UTC"
):
    """Per day, visitors seen for the first time ever that day, and those seen on an earlier day."""
    in_range = f"SELECT identity_key, raw_key, {DAY} AS date FROM visit_slots WHERE {SLOTS}"
    ever = (
        "SELECT identity_key, raw_key, toDate(toTimeZone(min(slot), {timezone:String})) AS first_seen "
        "FROM visit_slots WHERE site_id = {site_id:String} AND slot < {end_at:DateTime('UTC')} "
        "GROUP BY identity_key, raw_key"
    )
    return warehouse.query_df(
        f"""
        SELECT date, countIf(date = first_day) AS new_visitors, countIf(date > first_day) AS returning_visitors
        FROM (
            SELECT DISTINCT date, person_key FROM ({_keyed(in_range, ["date"], segment)})
        ) AS days
        ANY LEFT JOIN (
            SELECT person_key, min(first_seen) AS first_day
            FROM ({resolve_keys(ever, ["first_seen"])})
            GROUP BY person_key
        ) AS firsts USING person_key
        GROUP BY date ORDER BY date
        """,
        range_params(site_id, start, end, segment, timezone),
    )


# A day's month among given month starts (``{months:Array(Date)}``, ascending): months of
# another calendar than ClickHouse's (Jalali months), and the month's position among them. The
# position of the day after among the starts sorted with it counts the starts on or before the day
# (no lambda: ClickHouse 18.16 drops the columns that only a lambda reads from subqueries).
MONTH_OF = (
    "arrayElement({{months:Array(Date)}}, "
    "indexOf(arraySort(arrayPushBack({{months:Array(Date)}}, {day} + 1)), {day} + 1) - 1)"
)
MONTH_NUMBER = "indexOf({{months:Array(Date)}}, {month})"


def retention(
    warehouse: Warehouse,
    site_id: str,
    start: dt.date,
    end: dt.date,
    segment: str | None = None,
    months: list[dt.date] | None = None,
    timezone: str = "UTC",
):
    """Customers by month of first order (cohorts starting in the range) still ordering N months later.

    Months are calendar months of the site's days; ``months`` (their first days, ascending, covering
    every order) gives another calendar's, such as a Jalali site's Persian months. Cohorts are named
    by their first day.
    """
    month_of = MONTH_OF.format(day=DAY) if months else f"toStartOfMonth({DAY})"
    first_month = "{first_month:Date}" if months else "toStartOfMonth({start:Date})"
    later = (
        f"{MONTH_NUMBER.format(month='month')} - {MONTH_NUMBER.format(month='cohort')}"
        if months
        else "toRelativeMonthNum(month) - toRelativeMonthNum(cohort)"
    )
    per_ids = f"""
        SELECT identity_key, raw_key, groupUniqArray({month_of}) AS order_months
        FROM visit_slots
        WHERE site_id = {{site_id:String}} AND order_count > 0
        GROUP BY identity_key, raw_key"""
    extra = {}
    if months:
        extra = {"months": list(months), "first_month": max([m for m in months if m <= start] or months[:1])}
    return warehouse.query_df(
        f"""
        SELECT cohort, {later} AS months_later, count() AS customers
        FROM (
            SELECT person_key, groupUniqArrayArray(order_months) AS months, arrayReduce('min', months) AS cohort
            FROM ({_keyed(per_ids, ["order_months"], segment)})
            GROUP BY person_key
            HAVING cohort >= {first_month} AND cohort <= {{end:Date}}
        )
        ARRAY JOIN months AS month
        GROUP BY cohort, months_later ORDER BY cohort, months_later
        """,
        range_params(site_id, start, end, segment, timezone, **extra),
    )


def repeat_purchase_rate(
    warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, segment=None, timezone: str = "UTC"
) -> dict:
    """Share of the range's buyers who ordered at least twice in it."""
    per_ids = f"SELECT identity_key, raw_key, order_keys FROM visit_slots WHERE {SLOTS} AND order_count > 0"
    row = warehouse.query(
        f"""
        SELECT count() AS buyers, countIf(orders >= 2) AS repeat_buyers,
               if(count() = 0, 0, countIf(orders >= 2) / count()) AS rate
        FROM (
            SELECT person_key, uniqExactArray(order_keys) AS orders
            FROM ({_keyed(per_ids, ["order_keys"], segment)})
            GROUP BY person_key
        )
        """,
        range_params(site_id, start, end, segment, timezone),
    )[0]
    return {"buyers": int(row["buyers"]), "repeat_buyers": int(row["repeat_buyers"]), "rate": float(row["rate"])}


def satisfaction(
    warehouse: Warehouse,
    site_id: str,
    start: dt.date,
    end: dt.date,
    segment: str | None = None,
    timezone: str = "UTC",
    months: list[dt.date] | None = None,
):
    """Feedback scores per month: how many answers gave each score, and the month's mean.

    Months as in ``retention``: calendar months, or those starting on ``months`` (a Jalali site's).
    """
    month_of = MONTH_OF.format(day=DAY) if months else f"toStartOfMonth({DAY})"
    per_ids = f"""
        SELECT identity_key, raw_key, {month_of} AS month, score
        FROM visit_slots ARRAY JOIN feedback_scores AS score
        WHERE {SLOTS} AND notEmpty(feedback_scores)"""
    rows = _keyed(per_ids, ["month", "score"], segment) if segment else per_ids
    extra = {"months": list(months)} if months else {}
    return warehouse.query_df(
        f"SELECT month, score, count() AS answers FROM ({rows}) GROUP BY month, score ORDER BY month, score",
        range_params(site_id, start, end, segment, timezone, **extra),
    )


def recommendation_revenue(
    warehouse: Warehouse,
    site_id: str,
    start: dt.date,
    end: dt.date,
    segment: str | None = None,
    window_days: int = 7,
    timezone: str = "UTC",
):
    """Per day, orders with an item bought after clicking it in a recommendation, and those items' revenue.

    Attributed as on the recommendations page (``attributed_items``): an item
    counts once, for the same visitor's click within ``window_days`` before
    the order. Days are the orders' days in the site's zone. The UTC days of
    ``attribution_events`` (its sort key) only narrow the read.
    """
    range_days = "date >= toDate({start_at:DateTime('UTC')}) AND date <= toDate({end_at:DateTime('UTC')})"
    clicks_in = (
        "date >= toDate({start_at:DateTime('UTC')}) - {window_days:UInt32} "
        "AND date <= toDate({end_at:DateTime('UTC')}) AND timestamp < {end_at:DateTime('UTC')}"
    )
    orders_in = f"{range_days} AND timestamp >= {{start_at:DateTime('UTC')}} AND timestamp < {{end_at:DateTime('UTC')}}"
    per_ids = f"""
        SELECT order_key, item_id, toDate(toDateTime(any(order_time), {{timezone:String}})) AS date,
               any(item_revenue) AS item_revenue, any(anonymous_id) AS anonymous_id, any(order_user_id) AS user_id
        FROM ({attributed_items(clicks_in, orders_in)})
        GROUP BY order_key, item_id"""
    rows = _people(per_ids, ["order_key", "date", "item_revenue"], segment) if segment else per_ids
    return warehouse.query_df(
        f"""
        SELECT date, uniqExact(order_key) AS orders, sum(item_revenue) AS revenue
        FROM ({rows})
        GROUP BY date ORDER BY date
        """,
        range_params(site_id, start, end, segment, timezone, window=window_days * 86400, window_days=window_days),
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
    "recommendation_revenue": recommendation_revenue,
}


def dashboard(
    warehouse: Warehouse,
    site_id: str,
    start: dt.date,
    end: dt.date,
    segment: str | None = None,
    timezone: str = "UTC",
    timeout_minutes: int = 30,
) -> dict:
    """Every panel, as plain rows (what the admin's charts and the bench read); visits cut at ``timeout_minutes``."""
    out = {}
    for name, panel in PANELS.items():
        extra = {"timeout_minutes": timeout_minutes} if panel is sessions else {}
        value = panel(warehouse, site_id, start, end, segment, timezone=timezone, **extra)
        out[name] = value.to_dict("records") if isinstance(value, pd.DataFrame) else value
    return out


def raw_activity(
    warehouse: Warehouse, site_id: str, start: dt.date, end: dt.date, timezone: str = "UTC"
) -> pd.DataFrame:
    """Every event's person and time in the range: what a dashboard computed in Python would have to fetch."""
    return warehouse.query_df(
        f"SELECT {EVENT_RAW_PERSON} AS person_id, timestamp FROM events WHERE {RANGE}",
        range_params(site_id, start, end, None, timezone),
    )
