"""The recent tail: what events say that the identity and sessions jobs have not read yet.

The jobs run every few minutes, and the identity job re-stitches the whole
site, so running them every few seconds would cost a full pass each time on
a large site. The profile and the Visitors list read instead the events
received after each job's high-water mark, for the people they show: a visit,
an order or a rating appears within seconds of arriving.

Every read is bounded. A person's events are found through the sort key
``(site_id, anonymous_id, …)``; events with only a user id sit under the
empty anonymous id. Reads by receive time also bound the event time from
below (``floor``), so only the newest monthly partitions are opened: an
event received now but dated long ago (an import of old orders) waits for
the jobs.
"""

from __future__ import annotations

import datetime as dt

from warehouse.engine.connection import Warehouse

from .identity import KNOWN_ID
from .sessions import EPOCH, VISITOR

# How far before a job's mark the event times of its tail may lie.
FLOOR = dt.timedelta(days=1)
ORDER = "Order Completed"


def job_marks(warehouse: Warehouse, site_id: str) -> dict[str, dict]:
    """Per job: where its last run stopped reading (``high_water``) and when it ran (``ran_at``), naive UTC."""
    rows = warehouse.query(
        "SELECT job, argMax(high_water, version) AS mark, max(version) AS last_version FROM job_marks "
        "WHERE site_id = {site_id:String} GROUP BY job",
        {"site_id": site_id},
    )
    return {r["job"]: {"high_water": _naive(r["mark"]), "ran_at": from_version(r["last_version"])} for r in rows}


def from_version(version: int) -> dt.datetime:
    """A version (nanoseconds since the epoch when written) as naive UTC."""
    return dt.datetime.fromtimestamp(int(version) / 1e9, dt.timezone.utc).replace(tzinfo=None)


def floor_of(since: dt.datetime | None) -> dt.datetime:
    return EPOCH if since is None or since - FLOOR < EPOCH else since - FLOOR


def _naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


_LINK_COLUMNS = f"""concat('anon:', anonymous_id) AS a, {KNOWN_ID} AS b,
    multiIf(type = 'identify', 'identify', type = 'alias', 'alias',
            has(flags, 'imported'), 'import', 'login') AS reason,
    argMin(message_id, timestamp) AS message_id, min(timestamp) AS at"""
_LINK_FILTER = """site_id = {site_id:String} AND is_bot = 0 AND anonymous_id != '' AND user_id != ''
    AND NOT has(flags, 'claimed') AND received_at > {since:DateTime('UTC')}"""

# Two reads, each on its own index: by anonymous id (the sort key), and by user
# id within the tail's partitions. Claimed ids (no userHash) link nobody, as in the job.
_LINKS_BY_ANON = f"""
    SELECT {_LINK_COLUMNS} FROM events
    WHERE {_LINK_FILTER} AND anonymous_id IN (SELECT arrayJoin({{anons:Array(String)}}))
    GROUP BY a, b, reason
"""
_LINKS_BY_USER = f"""
    SELECT {_LINK_COLUMNS} FROM events
    WHERE {_LINK_FILTER} AND timestamp >= {{floor:DateTime('UTC')}}
      AND user_id IN (SELECT arrayJoin({{users:Array(String)}}))
    GROUP BY a, b, reason
"""


def tail_links(warehouse: Warehouse, site_id: str, identities: list[str], since: dt.datetime | None) -> list[dict]:
    """Links (``a`` an anonymous id, ``b`` a known id) shown by events received after ``since``
    that touch one of these identities: a browser signed in, a known customer on a new device."""
    anons = sorted({i[5:] for i in identities if i.startswith("anon:")})
    users = sorted({i.partition(":")[2] for i in identities if i.startswith(("user:", "customer:"))})
    params = {"site_id": site_id, "since": since or EPOCH, "floor": floor_of(since), "anons": anons, "users": users}
    if anons and users:
        return warehouse.query(f"SELECT * FROM ({_LINKS_BY_ANON} UNION ALL {_LINKS_BY_USER})", params)
    if anons or users:
        return warehouse.query(_LINKS_BY_ANON if anons else _LINKS_BY_USER, params)
    return []


def user_seen(warehouse: Warehouse, site_id: str, user_id: str, since: dt.datetime | None) -> bool:
    """Whether events received after ``since`` carry this user id (a customer the jobs have not seen yet)."""
    return bool(
        warehouse.scalar(
            "SELECT count() FROM events WHERE site_id = {site_id:String} AND is_bot = 0 "
            "AND received_at > {since:DateTime('UTC')} AND timestamp >= {floor:DateTime('UTC')} "
            "AND user_id = {user_id:String}",
            {"site_id": site_id, "since": since or EPOCH, "floor": floor_of(since), "user_id": user_id},
        )
    )


def order_visitors(warehouse: Warehouse, site_id: str, order_id: str, since: dt.datetime | None) -> list[str]:
    """Visitors whose order with this id arrived after ``since`` (the sessions job's mark)."""
    rows = warehouse.query(
        f"SELECT DISTINCT {VISITOR} AS visitor_id FROM events WHERE site_id = {{site_id:String}} AND is_bot = 0 "
        "AND received_at > {since:DateTime('UTC')} AND timestamp >= {floor:DateTime('UTC')} "
        "AND event = {order:String} AND order_id = {order_id:String} LIMIT 10",
        {"site_id": site_id, "since": since or EPOCH, "floor": floor_of(since), "order": ORDER, "order_id": order_id},
    )
    return [r["visitor_id"] for r in rows]


_PERSON = f"""site_id = {{site_id:String}} AND is_bot = 0
    AND anonymous_id IN (SELECT arrayJoin({{anons:Array(String)}}))
    AND {VISITOR} IN (SELECT arrayJoin({{visitors:Array(String)}}))"""


def _person_params(site_id: str, visitor_ids: list[str]) -> dict:
    anons = {v for v in visitor_ids if not v.startswith("user:")}
    if any(v.startswith("user:") for v in visitor_ids):
        anons.add("")
    return {"site_id": site_id, "anons": sorted(anons), "visitors": sorted(set(visitor_ids))}


def person_events(
    warehouse: Warehouse, site_id: str, visitor_ids: list[str], since: dt.datetime, limit: int = 1000
) -> list[dict]:
    """The events of these visitors from ``since`` on, newest first: what each visit did, for the timeline."""
    if not visitor_ids:
        return []
    return warehouse.query(
        f"""
        SELECT {VISITOR} AS visitor_id, timestamp, timestamp_ms, type, event, name, path, title, search, query,
               product_id, product_name, price, quantity, order_id, revenue, currency, score, user_agent
        FROM events WHERE {_PERSON} AND timestamp >= {{since:DateTime('UTC')}}
        ORDER BY timestamp DESC, timestamp_ms DESC LIMIT {{limit:UInt32}}
        """,
        {**_person_params(site_id, visitor_ids), "since": since, "limit": limit},
    )


def person_orders(warehouse: Warehouse, site_id: str, visitor_ids: list[str], limit: int = 50) -> list[dict]:
    """The orders of these visitors with their line items, newest first, straight from the events
    (so an order shows the moment it arrives)."""
    if not visitor_ids:
        return []
    return warehouse.query(
        f"""
        SELECT message_id, order_id, timestamp, revenue, currency, item_ids, item_prices, item_quantities
        FROM events WHERE {_PERSON} AND type = 'track' AND event = {{order:String}}
        ORDER BY timestamp DESC LIMIT 1 BY message_id LIMIT {{limit:UInt32}}
        """,
        {**_person_params(site_id, visitor_ids), "order": ORDER, "limit": limit},
    )


_TAIL_VISITORS = f"""
    SELECT {VISITOR} AS visitor_id, max(timestamp) AS last_seen, toUInt64(1) AS visits,
           countIf(event = {{order:String}}) AS order_count, sumIf(revenue, event = {{order:String}}) AS revenue_total
    FROM events
    WHERE site_id = {{site_id:String}} AND is_bot = 0
      AND received_at > {{since:DateTime('UTC')}} AND timestamp >= {{floor:DateTime('UTC')}}
    GROUP BY visitor_id
"""
_STORED_VISITORS = """
    SELECT visitor_id, max(ended_at) AS last_seen, count() AS visits, sum(orders) AS order_count,
           sum(revenue) AS revenue_total
    FROM sessions FINAL WHERE site_id = {site_id:String} AND deleted = 0
    GROUP BY visitor_id
"""
# Stored visits and the tail's events, one row per visitor: orders and revenue
# add up (the tail holds only events the job has not read); a visitor new in
# the tail counts one visit, one already known keeps its count until the job
# runs.
VISITORS = f"""
    SELECT visitor_id, max(last_seen) AS last_seen, max(visits) AS visits, sum(order_count) AS order_count,
           sum(revenue_total) AS revenue_total
    FROM ({_STORED_VISITORS} UNION ALL {_TAIL_VISITORS})
    GROUP BY visitor_id
"""


def visitors_params(site_id: str, since: dt.datetime | None) -> dict:
    return {"site_id": site_id, "since": since or EPOCH, "floor": floor_of(since), "order": ORDER}
