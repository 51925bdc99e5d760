"""The people and orders behind a KPI figure: the lists its numbers count.

Each list reads the same rows, by the same definitions, as the figure it
explains (``kpis``): ``visit_slots`` for visitors, buyers, funnel steps and
retention cells, over the site's local days and resolved to people through the
identity map, so a list's length is the figure. People come back as the ids
``directory.contacts`` names: the person id when the identity map has one, else
the row's own user or anonymous id. Orders are listed from ``events`` once per
order id, as ``visit_slots`` counts them. Sorts are names from the tables below;
values are bound parameters.
"""

from __future__ import annotations

from warehouse.engine.connection import Warehouse

from .kpis import DAY, FUNNEL_STEPS, FUNNEL_WINDOW_SECONDS, MEMBERS, MONTH_NUMBER, MONTH_OF, RANGE, SLOTS, range_params
from .person_map import CHANNEL_ID_COLUMN, resolve

# Which people each list holds: a test on the person's row of the range.
KINDS = {
    "visitors": "1",
    "customers": "orders > 0",
    "repeat": "orders >= 2",
    **{f"step{i + 1}": f"level >= {i + 1}" for i in range(len(FUNNEL_STEPS))},
}
PEOPLE_SORTS = {
    "revenue": "revenue",
    "orders": "orders",
    "days": "days",
    "events": "events",
    "last": "last_day",
}
ORDER_SORTS = {"time": "ordered_at", "revenue": "revenue"}

_PEOPLE_BY_IDENTITY = """
    SELECT cityHash64(identity) AS identity_key, argMax(person_id, version) AS mapped_person
    FROM identity_map WHERE site_id = {site_id:String} AND identity NOT LIKE 'email:%'
    GROUP BY identity
"""
# A row's raw person as the rollup hashed it into ``raw_key``: its user id unless only claimed.
_RAW = "if(user_id != '' AND cityHash64(user_id) = raw_key, user_id, anonymous_id)"
_COLUMNS = ["date", "event_count", "order_keys", "order_revenue", "progress"]


def _people_rows(segment: str | None) -> str:
    carried = ", ".join(_COLUMNS)
    rows = f"""
        SELECT if(mapped_person != '', mapped_person, raw_person) AS person_id, {carried}
        FROM (
            SELECT identity_key, {_RAW} AS raw_person, {DAY} AS date, event_count, order_keys, order_revenue,
                   progress
            FROM visit_slots WHERE {SLOTS}
        ) AS rows_by_ids
        ANY LEFT JOIN ({_PEOPLE_BY_IDENTITY}) AS people USING identity_key
    """
    if segment:
        rows = f"SELECT * FROM ({rows}) WHERE person_id IN ({MEMBERS})"
    return f"""
        SELECT person_id, uniqExact(date) AS days, sum(event_count) AS events, uniqExactArray(order_keys) AS orders,
               sum(order_revenue) AS revenue, max(date) AS last_day,
               windowFunnelMerge({FUNNEL_WINDOW_SECONDS})(progress) AS level
        FROM ({rows}) GROUP BY person_id
    """


def people_count(
    warehouse: Warehouse, site_id: str, kind: str, start, end, segment: str | None = None, timezone: str = "UTC"
) -> int:
    sql = f"SELECT count() FROM ({_people_rows(segment)}) WHERE {KINDS[kind]}"
    return int(warehouse.scalar(sql, range_params(site_id, start, end, segment, timezone)) or 0)


def people(
    warehouse: Warehouse,
    site_id: str,
    kind: str,
    start,
    end,
    segment: str | None = None,
    sort: str = "revenue",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
    timezone: str = "UTC",
) -> list[dict]:
    """A page of the people a KPI counts, with what they did in the range."""
    order = f"{PEOPLE_SORTS.get(sort, 'revenue')} {'DESC' if descending else 'ASC'}"
    return warehouse.query(
        f"""
        SELECT person_id, days, events, orders, revenue, last_day, level
        FROM ({_people_rows(segment)}) WHERE {KINDS[kind]}
        ORDER BY {order}, person_id LIMIT {{limit:UInt32}} OFFSET {{offset:UInt32}}
        """,
        range_params(site_id, start, end, segment, timezone, limit=limit, offset=offset),
    )


_ORDER_COLUMNS = ["timestamp", "order_key", "revenue", "item_ids"]
_ORDER_EVENTS = resolve(
    f"SELECT anonymous_id, user_id, {CHANNEL_ID_COLUMN}, timestamp, "
    "if(order_id != '', order_id, message_id) AS order_key, revenue, item_ids "
    f"FROM events WHERE {RANGE} AND event = 'Order Completed'",
    _ORDER_COLUMNS,
)


def _orders(segment: str | None) -> str:
    """One row per order id in the range, as ``visit_slots`` counts orders; its revenue sums every event of it."""
    rows = f"SELECT * FROM ({_ORDER_EVENTS}) WHERE person_id IN ({MEMBERS})" if segment else _ORDER_EVENTS
    return f"""
        SELECT order_id, buyer AS person_id, ordered_at, revenue, items FROM (
            SELECT order_key AS order_id, argMin(person_id, timestamp) AS buyer, min(timestamp) AS ordered_at,
                   sum(revenue) AS revenue, groupUniqArrayArray(item_ids) AS items
            FROM ({rows}) GROUP BY order_key
        )
    """


def order_count(
    warehouse: Warehouse, site_id: str, start, end, segment: str | None = None, timezone: str = "UTC"
) -> int:
    params = range_params(site_id, start, end, segment, timezone)
    return int(warehouse.scalar(f"SELECT count() FROM ({_orders(segment)})", params) or 0)


def orders(
    warehouse: Warehouse,
    site_id: str,
    start,
    end,
    segment: str | None = None,
    sort: str = "time",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
    timezone: str = "UTC",
) -> list[dict]:
    """A page of the range's orders with who placed them."""
    order = f"{ORDER_SORTS.get(sort, 'ordered_at')} {'DESC' if descending else 'ASC'}"
    return warehouse.query(
        f"SELECT * FROM ({_orders(segment)}) ORDER BY {order}, order_id "
        "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        range_params(site_id, start, end, segment, timezone, limit=limit, offset=offset),
    )


COHORT_SORTS = {"orders": "orders", "revenue": "revenue"}


def _cohort_people(segment: str | None, months: list | None) -> str:
    """People whose first order fell in ``{cohort:Date}``'s month and who ordered ``{later}`` months
    after it, by the months ``kpis.retention`` counts (the site's days in ClickHouse's months, or in
    the given month starts)."""
    month_of = MONTH_OF.format(day=DAY) if months else f"toStartOfMonth({DAY})"
    later = (
        f"{MONTH_NUMBER.format(month='month')} - {MONTH_NUMBER.format(month='cohort')}"
        if months
        else "toRelativeMonthNum(month) - toRelativeMonthNum(cohort)"
    )
    rows = f"""
        SELECT if(mapped_person != '', mapped_person, raw_person) AS person_id, order_months, order_keys,
               revenue_total
        FROM (
            SELECT identity_key, {_RAW} AS raw_person, groupUniqArray({month_of}) AS order_months,
                   groupUniqArrayArray(order_keys) AS order_keys, sum(order_revenue) AS revenue_total
            FROM visit_slots WHERE site_id = {{site_id:String}} AND order_count > 0
            GROUP BY identity_key, raw_person
        ) AS rows_by_ids
        ANY LEFT JOIN ({_PEOPLE_BY_IDENTITY}) AS people USING identity_key
    """
    if segment:
        rows = f"SELECT * FROM ({rows}) WHERE person_id IN ({MEMBERS})"
    return f"""
        SELECT person_id, any(orders) AS orders, any(revenue) AS revenue
        FROM (
            SELECT person_id, groupUniqArrayArray(order_months) AS months, arrayReduce('min', months) AS cohort,
                   uniqExactArray(order_keys) AS orders, sum(revenue_total) AS revenue
            FROM ({rows}) GROUP BY person_id
            HAVING cohort = {{cohort:Date}}
        )
        ARRAY JOIN months AS month
        WHERE {later} = {{later:Int32}}
        GROUP BY person_id
    """


def _cohort_params(site_id: str, cohort, later: int, segment, months, timezone: str) -> dict:
    extra = {"months": list(months)} if months else {}
    return range_params(site_id, cohort, cohort, segment, timezone, cohort=cohort, later=later, **extra)


def cohort_count(
    warehouse: Warehouse, site_id: str, cohort, later: int, segment=None, months=None, timezone: str = "UTC"
) -> int:
    params = _cohort_params(site_id, cohort, later, segment, months, timezone)
    return int(warehouse.scalar(f"SELECT count() FROM ({_cohort_people(segment, months)})", params) or 0)


def cohort_people(
    warehouse: Warehouse,
    site_id: str,
    cohort,
    later: int,
    segment: str | None = None,
    months: list | None = None,
    sort: str = "revenue",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
    timezone: str = "UTC",
) -> list[dict]:
    """A page of one retention cell's people, with their orders and revenue to date."""
    order = f"{COHORT_SORTS.get(sort, 'revenue')} {'DESC' if descending else 'ASC'}"
    params = _cohort_params(site_id, cohort, later, segment, months, timezone)
    return warehouse.query(
        f"SELECT * FROM ({_cohort_people(segment, months)}) ORDER BY {order}, person_id "
        "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        {**params, "limit": limit, "offset": offset},
    )
