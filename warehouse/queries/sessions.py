"""Sessionization in ClickHouse: visits from a visitor's event stream.

Two passes, neither needing window functions, so they run on ClickHouse
18.16 as on chDB. Pass one carries only numbers through arrays: per visitor
the sorted event times and a hash of each event's campaign, from which
``arrayDifference`` and a look-back at the last campaign give the times where
visits start. Pass two joins each event to its visitor's start times, takes
its visit number with ``arrayCount``, and folds each visit into one row with
plain column aggregates. Carrying whole events (strings and all) through
sorted arrays and ``ARRAY JOIN`` was several times slower.

Events within one millisecond always share a visit: they have no order of
their own.

Incremental: each run reads the events received since the site's high-water
mark, and recomputes only the visitors they touch, from the start of the
visit that was open when their earliest new event happened. A full run
(since the epoch) reads the site's events once, without that bookkeeping, and
retires every stored visit it did not rewrite.
"""

from __future__ import annotations

import datetime as dt

from warehouse.engine.connection import Warehouse

from . import mining_rows

EPOCH = dt.datetime(1970, 1, 1)

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

TIME_MS = "toUInt64(timestamp) * 1000 + timestamp_ms"

# The campaign (utm source|campaign) as a number, 0 for none.
CAMPAIGN = (
    "if(utm_source = '' AND utm_campaign = '', toUInt64(0), "
    "cityHash64(concat(toString(utm_source), '|', utm_campaign)))"
)

DEVICE = (
    "multiIf(ua = '', 'unknown', match(ua, '(?i)ipad|tablet|kindle'), 'tablet', "
    "match(ua, '(?i)mobi|iphone|android'), 'mobile', match(ua, '(?i)bot|crawl|spider'), 'bot', 'desktop')"
)

# Which events a run reads: those of the visitors that new events touch
# (then cut at each visitor's boundary after the join), or all of the site's,
# copied once for a full run in the order of a bucket of the visitor
# (``visit_rows``, as ``mining_rows`` does for the mining jobs), so that each
# part reads its own visitors' events rather than every event.
_ALL_VISITORS = f"site_id = {{site_id:String}} AND {mining_rows.PART}"
_NEW_VISITORS = """site_id = {site_id:String} AND is_bot = 0
      AND anonymous_id IN (
          SELECT anonymous_id FROM events WHERE site_id = {site_id:String}
             AND received_at > {since:DateTime('UTC')} AND received_at <= {upto:DateTime('UTC')})"""

_PASS_ONE_COLUMNS = f"{VISITOR} AS visitor_id, timestamp, {TIME_MS} AS t, {CAMPAIGN} AS c, user_agent, utm_medium"

# Pass one, per visitor: the times where visits start, and a number for the
# visitor (``rowNumberInAllBlocks``) so pass two groups by two integers rather
# than by a string. A visit starts at the first event, after a gap longer than
# the timeout, or at an event whose campaign differs from the last campaign
# seen (events without one do not count); the two lists are concatenated, and
# a time in both only starts one visit. The device is the visitor's (an
# anonymous id is one browser), so its regexes run once per visitor.
#
# An incremental run recomputes from the visitor's boundary on, but the last
# campaign seen and the first user agent may lie before it: so the campaigns
# and the device come from all the visitor's events, and only the gaps from
# those at or after the boundary. Campaign starts before the boundary shift
# every later visit number by the same count, which leaves visits whole.
_STARTS = f"""
    SELECT visitor_id, rowNumberInAllBlocks() AS visitor_no, visitor_boundary AS boundary, device,
           arrayConcat(
               arrayFilter((x, g, i) -> i = 1 OR g > {{timeout_ms:UInt64}}, times, arrayDifference(times),
                           arrayEnumerate(times)),
               arrayMap(x -> x.1, arrayFilter((x, i) -> i = 1 OR x.2 != campaigns[i - 1].2, campaigns,
                                              arrayEnumerate(campaigns)))) AS starts
    FROM (
        SELECT visitor_id, any(boundary) AS visitor_boundary,
               arraySort(groupArrayIf(t, timestamp >= boundary)) AS times,
               arraySort(groupArrayIf((t, c), c != 0)) AS campaigns,
               argMin(user_agent, t) AS ua,
               if(argMin(utm_medium, t) = 'offline', 'offline', {DEVICE}) AS device
        FROM ($SOURCE)
        GROUP BY visitor_id
    )
"""

_STARTS_ALL = _STARTS.replace(
    "$SOURCE",
    "SELECT visitor_id, timestamp, t, c, user_agent, utm_medium, toDateTime(0, 'UTC') AS boundary "
    f"FROM visit_rows WHERE {_ALL_VISITORS}",
)
_STARTS_NEW = _STARTS.replace(
    "$SOURCE",
    f"""SELECT * FROM (SELECT {_PASS_ONE_COLUMNS} FROM events WHERE {_NEW_VISITORS}) AS visitor_events
        ALL INNER JOIN ({_BOUNDARIES}) AS bounds USING visitor_id""",
)

# Pass two: every event with its visit number, then one row per visit. The
# landing fields come from the visit's first event by time, then by kind, so
# that events in one millisecond give the same answer on every run.
_VISITS = """
    SELECT {site_id:String} AS site_id, any(visitor_id) AS visitor_id,
           toDateTime(intDiv(min(t), 1000), 'UTC') AS started_at,
           toDateTime(intDiv(max(t), 1000), 'UTC') AS ended_at,
           toUInt32(ended_at - started_at) AS duration_seconds,
           toUInt32(count()) AS events,
           toUInt32(countIf(kind = 1)) AS pageviews,
           argMin(page, first) AS landing_page,
           argMin(referrer, first) AS referrer,
           argMin(utm_source, first) AS utm_source,
           argMin(utm_medium, first) AS utm_medium,
           argMin(utm_campaign, first) AS utm_campaign,
           multiIf(utm_source != '', utm_source, referrer != '', domain(referrer), 'direct') AS source,
           any(device) AS device,
           groupUniqArrayIf(user_id, user_id != '') AS user_ids,
           arrayMap(p -> p.2, arraySort(groupArrayIf(200)((t, page), kind = 1))) AS pages,
           arrayDistinct(groupArrayIf(product_id, kind = 2 AND product_id != '')) AS products_viewed,
           toUInt32(countIf(kind = 3)) AS cart_adds,
           sumIf(line_value, kind = 3) AS cart_value,
           toUInt32(countIf(kind = 4)) AS checkouts,
           toUInt32(countIf(kind = 5)) AS orders,
           sumIf(revenue, kind = 5) AS revenue,
           groupUniqArrayIf(order_id, kind = 5 AND order_id != '') AS order_ids,
           toUInt8(0) AS deleted,
           {version:UInt64} AS version
    FROM (
        SELECT visitor_id, t, t * 8 + kind AS first, kind, page, referrer, utm_source, utm_medium, utm_campaign,
               user_id, product_id, line_value, order_id, revenue, device,
               bitShiftLeft(visitor_no, 32) + arrayCount(s -> s <= t, starts) AS visit
        FROM ($EVENTS) AS visitor_events ALL INNER JOIN ($STARTS) AS visit_starts USING visitor_id
        WHERE timestamp >= boundary
    )
    GROUP BY visit
"""

# Each event with what a visit is made of; ``visit_rows`` holds them so, and pass two reads them back as strings.
_EVENT_COLUMNS = f"""
    {VISITOR} AS visitor_id, timestamp, {TIME_MS} AS t, {KIND} AS kind, if(path != '', path, url) AS page, referrer,
    utm_source, utm_medium, utm_campaign, user_id, product_id, price * greatest(quantity, 1) AS line_value, order_id,
    revenue"""
_PASS_TWO_COLUMNS = (
    "visitor_id, timestamp, t, kind, page, referrer, toString(utm_source) AS utm_source, "
    "toString(utm_medium) AS utm_medium, utm_campaign, user_id, product_id, line_value, order_id, revenue"
)


def _events_where(scope: str) -> str:
    """Pass two's events, read from the events table where ``scope`` holds."""
    return f"SELECT {_PASS_TWO_COLUMNS} FROM (SELECT {_EVENT_COLUMNS} FROM events WHERE {scope})"


_VISITS_ALL = _VISITS.replace("$EVENTS", f"SELECT {_PASS_TWO_COLUMNS} FROM visit_rows WHERE {_ALL_VISITORS}").replace(
    "$STARTS", _STARTS_ALL
)
_VISITS_NEW = _VISITS.replace("$EVENTS", _events_where(_NEW_VISITORS)).replace("$STARTS", _STARTS_NEW)

# A full run's copy of the site's events (pass one's columns and pass two's), under ``run``.
_COPY = f"""
    INSERT INTO visit_rows (site_id, run, bucket, visitor_id, timestamp, t, kind, c, user_agent, page, referrer,
                            utm_source, utm_medium, utm_campaign, user_id, product_id, line_value, order_id, revenue)
    SELECT {{site_id:String}}, {{run:UInt64}}, cityHash64(visitor_id) % {mining_rows.BUCKETS}, visitor_id, timestamp,
           t, kind, {CAMPAIGN} AS c, user_agent, page, referrer, utm_source, utm_medium, utm_campaign, user_id,
           product_id, line_value, order_id, revenue
    FROM (SELECT {_EVENT_COLUMNS}, user_agent FROM events WHERE site_id = {{site_id:String}} AND is_bot = 0)
"""

COLUMNS = (
    "site_id, visitor_id, started_at, ended_at, duration_seconds, events, pageviews, landing_page, referrer, "
    "source, utm_source, utm_medium, utm_campaign, device, user_ids, pages, products_viewed, cart_adds, "
    "cart_value, checkouts, orders, revenue, order_ids, deleted, version"
)

# Visits of the affected visitors that the recomputation did not rewrite:
# those from each visitor's boundary on (as in ``_BOUNDARIES``) that are still
# of an older version, found in the one read of their stored visits.
_TOMBSTONES = f"""
    SELECT {{site_id:String}} AS site_id, visitor_id, visit.1 AS started_at, toUInt8(1) AS deleted,
           {{version:UInt64}} AS version
    FROM (
        SELECT visitor_id, groupArray((started_at, stored_version)) AS visits,
               maxIf(started_at, started_at <= first_new) AS boundary
        FROM ({_NEW_EVENTS}) AS fresh
        ALL INNER JOIN (
            SELECT visitor_id, started_at, version AS stored_version FROM sessions FINAL
            WHERE site_id = {{site_id:String}} AND deleted = 0
              AND visitor_id IN (SELECT visitor_id FROM ({_NEW_EVENTS}))
        ) AS stored USING visitor_id
        GROUP BY visitor_id
    ) ARRAY JOIN visits AS visit
    WHERE visit.1 >= boundary AND visit.2 < {{version:UInt64}}
"""

# A full run rewrote every visit the events support; the rest are gone.
_TOMBSTONES_ALL = """
    SELECT site_id, visitor_id, started_at, toUInt8(1) AS deleted, {version:UInt64} AS version
    FROM (SELECT site_id, visitor_id, started_at, version AS stored_version FROM sessions FINAL
          WHERE site_id = {site_id:String} AND deleted = 0) AS live_visits
    WHERE stored_version < {version:UInt64}
"""


def event_window(warehouse: Warehouse, site_id: str) -> dt.datetime | None:
    """The newest receive time of the site's events (the next high-water mark), as naive UTC."""
    rows = warehouse.query(
        "SELECT max(received_at) AS upto, count() AS n FROM events WHERE site_id = {site_id:String}",
        {"site_id": site_id},
    )
    return _naive_utc(rows[0]["upto"]) if rows and rows[0]["n"] else None


def high_water(warehouse: Warehouse, site_id: str, job: str) -> dt.datetime | None:
    """Where the job's last run stopped reading events (a receive time, naive UTC), or None."""
    rows = warehouse.query(
        "SELECT argMax(high_water, version) AS mark FROM job_marks "
        "WHERE site_id = {site_id:String} AND job = {job:String} GROUP BY site_id",
        {"site_id": site_id, "job": job},
    )
    return _naive_utc(rows[0]["mark"]) if rows else None


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """A datetime as naive UTC, the form ``EPOCH`` and the jobs' windows compare in."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def set_high_water(warehouse: Warehouse, site_id: str, job: str, mark: dt.datetime, version: int) -> None:
    import pandas as pd

    frame = pd.DataFrame({"site_id": [site_id], "job": [job], "high_water": [mark], "version": [version]})
    frame["high_water"] = pd.to_datetime(frame["high_water"], utc=True).dt.tz_localize(None).astype("datetime64[s]")
    warehouse.insert("job_marks", frame.astype({"version": "uint64"}))


def sessionize(
    warehouse: Warehouse,
    site_id: str,
    since: dt.datetime,
    upto: dt.datetime,
    timeout_minutes: int,
    version: int,
    parts: int = 1,
) -> int:
    """Recompute the visits touched by events received in (since, upto]; returns visits written.

    A full run (since the epoch) copies the events once and reads the
    visitors in ``parts`` of the copy, so its memory stays that of one part
    however many events.
    """
    params = {"site_id": site_id, "since": since, "upto": upto, "timeout_ms": timeout_minutes * 60_000}
    full = since <= EPOCH
    tombstones = _TOMBSTONES_ALL if full else _TOMBSTONES
    # A ReplacingMergeTree that folds equal keys while inserting spends more
    # on that than on computing the visits; FINAL reads fold them anyway.
    fold = "\nSETTINGS optimize_on_insert = 0" if warehouse.features.get("optimize_on_insert") else ""
    if full:
        _sessionize_all(warehouse, params | {"version": version, "run": version}, parts, fold)
    else:
        warehouse.execute(
            f"INSERT INTO sessions ({COLUMNS}) SELECT {COLUMNS} FROM ({_VISITS_NEW}){fold}",
            {**params, "version": version},
        )
    warehouse.execute(
        "INSERT INTO sessions (site_id, visitor_id, started_at, deleted, version) "
        f"SELECT site_id, visitor_id, started_at, deleted, version FROM ({tombstones})",
        {**params, "version": version},
    )
    return _count(warehouse, site_id, version)


def _sessionize_all(warehouse: Warehouse, params: dict, parts: int, fold: str) -> None:
    """Every visit of the site, a part of the visitors at a time, from one copy of the events."""
    with mining_rows.copying(warehouse, "visit_rows", params["run"], _COPY, params):
        for part in range(parts):
            warehouse.execute(
                f"INSERT INTO sessions ({COLUMNS}) SELECT {COLUMNS} FROM ({_VISITS_ALL}){fold}",
                params | mining_rows.bounds(part, parts),
            )


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


# The recent tail of a few visitors, computed as the job would and not written:
# the events of these visitors received after the job's mark, each visitor
# recomputed from the stored visit that was open when its first new event
# happened. Every read goes through the events' sort key (site, anonymous id);
# the first one also bounds the event time, so that the range of events with
# only a user id is read in the newest partitions alone.
_TAIL_EVENTS = f"""
    SELECT {VISITOR} AS visitor_id, min(timestamp) AS first_new
    FROM events
    WHERE site_id = {{site_id:String}} AND is_bot = 0
      AND anonymous_id IN (SELECT arrayJoin({{anons:Array(String)}}))
      AND {VISITOR} IN (SELECT arrayJoin({{visitors:Array(String)}}))
      AND received_at > {{since:DateTime('UTC')}} AND timestamp >= {{floor:DateTime('UTC')}}
    GROUP BY visitor_id
"""
_TAIL_BOUNDARIES = _BOUNDARIES.replace(_NEW_EVENTS, _TAIL_EVENTS)
_TAIL_SCOPE = f"""site_id = {{site_id:String}} AND is_bot = 0
      AND anonymous_id IN (SELECT arrayJoin({{anons:Array(String)}}))
      AND {VISITOR} IN (SELECT arrayJoin({{visitors:Array(String)}}))"""
_TAIL_STARTS = _STARTS.replace(
    "$SOURCE",
    f"""SELECT * FROM (SELECT {_PASS_ONE_COLUMNS} FROM events WHERE {_TAIL_SCOPE}) AS visitor_events
        ALL INNER JOIN ({_TAIL_BOUNDARIES}) AS bounds USING visitor_id""",
)
_TAIL_VISITS = _VISITS.replace("$EVENTS", _events_where(_TAIL_SCOPE)).replace("$STARTS", _TAIL_STARTS)


def _anonymous_ids(visitor_ids: list[str]) -> list[str]:
    """The sort-key values holding these visitors' events: events with only a user id sit under ''."""
    anons = {v for v in visitor_ids if not v.startswith("user:")}
    if any(v.startswith("user:") for v in visitor_ids):
        anons.add("")
    return sorted(anons)


def tail_visits(
    warehouse: Warehouse,
    site_id: str,
    visitor_ids: list[str],
    since: dt.datetime | None,
    timeout_minutes: int,
    floor: dt.datetime = EPOCH,
) -> tuple[list[dict], dict[str, dt.datetime]]:
    """Visits of these visitors that events received after ``since`` (the job's mark) change.

    Returns the recomputed visits and, per visitor they touch, the start from
    which they replace the stored visits (the epoch for a visitor the job has
    not seen). Events dated before ``floor`` wait for the job. The same SQL as
    the job's, so the job's next run writes what this shows. Only visitors
    with new events are read past the first query.
    """
    params = {
        "site_id": site_id,
        "anons": _anonymous_ids(visitor_ids),
        "visitors": sorted(set(visitor_ids)),
        "since": since or EPOCH,
        "floor": floor,
        "timeout_ms": timeout_minutes * 60_000,
        "version": 0,
    }
    touched = [r["visitor_id"] for r in warehouse.query(_TAIL_EVENTS, params)] if visitor_ids else []
    if not touched:
        return [], {}
    params.update(anons=_anonymous_ids(touched), visitors=sorted(touched))
    bounds = warehouse.query(f"SELECT visitor_id, boundary FROM ({_TAIL_BOUNDARIES})", params)
    visits = warehouse.query(f"SELECT {COLUMNS} FROM ({_TAIL_VISITS})", params)
    return visits, {r["visitor_id"]: _naive_utc(r["boundary"]) for r in bounds}
