"""Sessionization in ClickHouse: visits from a visitor's event stream.

One visitor's events become an array, sorted by time; ``arrayDifference``
gives the gaps, ``arrayCumSum`` over "starts a visit" flags numbers the
visits, and ``ARRAY JOIN`` + ``GROUP BY`` folds each visit into one row. This
needs no window functions, so it runs on ClickHouse 18.16 as on chDB.

Incremental: each run reads the events received since the site's high-water
mark, and recomputes only the visitors they touch, from the start of the
visit that was open when their earliest new event happened.
"""

from __future__ import annotations

import datetime as dt

from .connection import Warehouse

# A visitor is its anonymous id; server-side events with only a user id are
# grouped under "user:<id>" so they never collide with anonymous ids.
VISITOR = "if(anonymous_id != '', anonymous_id, concat('user:', user_id))"

_NEW_EVENTS = f"""
    SELECT {VISITOR} AS visitor_id, min(timestamp) AS first_new
    FROM events
    WHERE site_id = {{site_id:String}} AND is_bot = 0
      AND received_at > {{since:DateTime('UTC')}} AND received_at <= {{upto:DateTime('UTC')}}
    GROUP BY visitor_id
"""

# Per affected visitor: recompute from the last stored visit that started at
# or before the earliest new event (epoch when there is none).
_BOUNDARIES = f"""
    SELECT visitor_id, maxIf(started_at, started_at <= first_new) AS boundary
    FROM ({_NEW_EVENTS}) AS fresh
    ALL LEFT JOIN (
        SELECT visitor_id, started_at FROM sessions FINAL
        WHERE site_id = {{site_id:String}} AND deleted = 0
          AND visitor_id IN (SELECT visitor_id FROM ({_NEW_EVENTS}))
    ) AS stored USING visitor_id
    GROUP BY visitor_id
"""

# What an event counts as in a visit, as a number (cheaper to carry than names).
KIND = (
    "toUInt8(multiIf(type = 'page', 1, event IN ('Product Viewed', 'Product Clicked'), 2, "
    "event = 'Product Added', 3, event = 'Checkout Started', 4, event = 'Order Completed', 5, 0))"
)

# What an event counts as in a visit, as a number (cheaper to carry than names).
KIND = (
    "toUInt8(multiIf(type = 'page', 1, event IN ('Product Viewed', 'Product Clicked'), 2, "
    "event = 'Product Added', 3, event = 'Checkout Started', 4, event = 'Order Completed', 5, 0))"
)

_EVENTS = f"""
    SELECT visitor_id, e, user_agent FROM (
        SELECT {VISITOR} AS visitor_id, timestamp, user_agent,
               tuple(toUInt64(timestamp) * 1000 + timestamp_ms, {KIND}, if(path != '', path, url), referrer,
                     utm_source, utm_medium, utm_campaign, user_id, product_id,
                     price * greatest(quantity, 1), order_id, revenue) AS e
        FROM events
        WHERE site_id = {{site_id:String}} AND is_bot = 0
          AND anonymous_id IN (
              SELECT anonymous_id FROM events WHERE site_id = {{site_id:String}}
                 AND received_at > {{since:DateTime('UTC')}} AND received_at <= {{upto:DateTime('UTC')}})
    ) AS visitor_events ALL INNER JOIN ({_BOUNDARIES}) AS bounds USING visitor_id
    WHERE timestamp >= boundary
"""

DEVICE = (
    "multiIf(ua = '', 'unknown', match(ua, '(?i)ipad|tablet|kindle'), 'tablet', "
    "match(ua, '(?i)mobi|iphone|android'), 'mobile', match(ua, '(?i)bot|crawl|spider'), 'bot', 'desktop')"
)

# Visit numbers per event. A visit starts at the first event, after a gap
# longer than the timeout, or when a campaign (utm source|campaign) differs
# from the last one seen: ``nonempty[k - 1]`` is the previous campaign. The
# device is the visitor's (an anonymous id is one browser), so its regexes
# run once per visitor, not once per event.
_NUMBERED = f"""
    SELECT visitor_id, device, evs, arrayCumSum(starts) AS visit_no FROM (
        SELECT visitor_id, arraySort(groupArray(e)) AS evs,
               argMin(user_agent, e.1) AS ua,
               if(argMin(e.6, e.1) = 'offline', 'offline', {DEVICE}) AS device,
               arrayMap(x -> concat(x.5, '|', x.7), evs) AS camp,
               arrayFilter(c -> c != '|', camp) AS nonempty,
               arrayCumSum(arrayMap(c -> c != '|', camp)) AS cum,
               arrayMap((i, g, c, k) -> i = 1 OR g > {{timeout_ms:UInt64}}
                                        OR (c != '|' AND nonempty[k - 1] != c),
                        arrayEnumerate(evs), arrayDifference(arrayMap(x -> x.1, evs)), camp, cum) AS starts
        FROM ({_EVENTS})
        GROUP BY visitor_id
    )
"""

# Tuple fields: 1 time (ms), 2 kind, 3 page, 4 referrer, 5-7 utm source/medium/campaign,
# 8 user id, 9 product id, 10 line value, 11 order id, 12 revenue.
_VISITS = f"""
    SELECT {{site_id:String}} AS site_id, visitor_id,
           toDateTime(intDiv(min(e.1), 1000), 'UTC') AS started_at,
           toDateTime(intDiv(max(e.1), 1000), 'UTC') AS ended_at,
           toUInt32(ended_at - started_at) AS duration_seconds,
           toUInt32(count()) AS events,
           toUInt32(countIf(e.2 = 1)) AS pageviews,
           argMin(e.3, e.1) AS landing_page,
           argMin(e.4, e.1) AS referrer,
           argMin(e.5, e.1) AS utm_source,
           argMin(e.6, e.1) AS utm_medium,
           argMin(e.7, e.1) AS utm_campaign,
           multiIf(utm_source != '', utm_source, referrer != '', domain(referrer), 'direct') AS source,
           any(device) AS device,
           groupUniqArrayIf(e.8, e.8 != '') AS user_ids,
           arrayMap(p -> p.2, arraySort(groupArrayIf(200)(tuple(e.1, e.3), e.2 = 1))) AS pages,
           groupUniqArrayIf(e.9, e.2 = 2 AND e.9 != '') AS products_viewed,
           toUInt32(countIf(e.2 = 3)) AS cart_adds,
           sumIf(e.10, e.2 = 3) AS cart_value,
           toUInt32(countIf(e.2 = 4)) AS checkouts,
           toUInt32(countIf(e.2 = 5)) AS orders,
           sumIf(e.12, e.2 = 5) AS revenue,
           groupUniqArrayIf(e.11, e.2 = 5 AND e.11 != '') AS order_ids,
           toUInt8(0) AS deleted,
           {{version:UInt64}} AS version
    FROM ({_NUMBERED}) ARRAY JOIN evs AS e, visit_no AS n
    GROUP BY visitor_id, n
"""

COLUMNS = (
    "site_id, visitor_id, started_at, ended_at, duration_seconds, events, pageviews, landing_page, referrer, "
    "source, utm_source, utm_medium, utm_campaign, device, user_ids, pages, products_viewed, cart_adds, "
    "cart_value, checkouts, orders, revenue, order_ids, deleted, version"
)

# Visits of the affected visitors that the recomputation did not rewrite.
_TOMBSTONES = f"""
    SELECT site_id, visitor_id, started_at, toUInt8(1) AS deleted, {{version:UInt64}} AS version
    FROM (SELECT site_id, visitor_id, started_at, version AS stored_version FROM sessions FINAL
          WHERE site_id = {{site_id:String}} AND deleted = 0
            AND visitor_id IN (SELECT visitor_id FROM ({_NEW_EVENTS}))) AS open_visits
    ALL INNER JOIN ({_BOUNDARIES}) AS bounds USING visitor_id
    WHERE started_at >= boundary AND stored_version < {{version:UInt64}}
"""


def event_window(warehouse: Warehouse, site_id: str) -> dt.datetime | None:
    """The newest receive time of the site's events (the next high-water mark)."""
    rows = warehouse.query(
        "SELECT max(received_at) AS upto, count() AS n FROM events WHERE site_id = {site_id:String}",
        {"site_id": site_id},
    )
    return rows[0]["upto"] if rows and rows[0]["n"] else None


def high_water(warehouse: Warehouse, site_id: str, job: str) -> dt.datetime | None:
    rows = warehouse.query(
        "SELECT argMax(high_water, version) AS mark FROM job_marks "
        "WHERE site_id = {site_id:String} AND job = {job:String} GROUP BY site_id",
        {"site_id": site_id, "job": job},
    )
    return rows[0]["mark"] if rows else None


def set_high_water(warehouse: Warehouse, site_id: str, job: str, mark: dt.datetime, version: int) -> None:
    import pandas as pd

    frame = pd.DataFrame({"site_id": [site_id], "job": [job], "high_water": [mark], "version": [version]})
    frame["high_water"] = pd.to_datetime(frame["high_water"], utc=True).dt.tz_localize(None).astype("datetime64[s]")
    warehouse.insert("job_marks", frame.astype({"version": "uint64"}))


def sessionize(
    warehouse: Warehouse, site_id: str, since: dt.datetime, upto: dt.datetime, timeout_minutes: int, version: int
) -> int:
    """Recompute the visits touched by events received in (since, upto]; returns visits written."""
    params = {"site_id": site_id, "since": since, "upto": upto, "timeout_ms": timeout_minutes * 60_000}
    warehouse.execute(
        f"INSERT INTO sessions ({COLUMNS}) SELECT {COLUMNS} FROM ({_VISITS})", {**params, "version": version}
    )
    warehouse.execute(
        "INSERT INTO sessions (site_id, visitor_id, started_at, deleted, version) "
        f"SELECT site_id, visitor_id, started_at, deleted, version FROM ({_TOMBSTONES})",
        {**params, "version": version},
    )
    return _count(warehouse, site_id, version)


def _count(warehouse: Warehouse, site_id: str, version: int) -> int:
    return int(
        warehouse.scalar(
            "SELECT count() FROM sessions WHERE site_id = {site_id:String} AND version = {version:UInt64} "
            "AND deleted = 0",
            {"site_id": site_id, "version": version},
        )
        or 0
    )


def visits(warehouse: Warehouse, site_id: str, visitor_ids: list[str], limit: int = 200) -> list[dict]:
    """The live visits of these visitors, newest first."""
    return warehouse.query(
        f"SELECT {COLUMNS} FROM sessions FINAL WHERE site_id = {{site_id:String}} "
        "AND visitor_id IN (SELECT arrayJoin({ids:Array(String)})) AND deleted = 0 "
        "ORDER BY started_at DESC LIMIT {limit:UInt32}",
        {"site_id": site_id, "ids": visitor_ids, "limit": limit},
    )
