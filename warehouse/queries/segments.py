"""Reads and writes of segments: person facts, membership history, exports.

Who a "person" is gets decided in one place, ``person_map``: the identity
map's person, so a cart added before logging in and the order placed on
another device are one customer's.

A person's facts are combined from facts per pair of ids, which are folded
into ``id_pair_facts`` and kept up to date: a full fold starts a generation
and reads the pairs in parts by hash; later folds refold only the pairs with
events received since the last one (a tombstone for each of their rows, then
their rows under a new version), so a run reads the events of the pairs that
changed and one pass over the folded rows. Every statement runs on ClickHouse
18.16 (one JOIN per SELECT, no window functions).
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import pandas as pd

from warehouse.engine.connection import Warehouse, WarehouseError

from . import erasure, mining_rows, visit_items
from .person_map import CHANNEL_ID_COLUMN, CURRENT_PEOPLE, EVENT_IDENTITY, RAW_PERSON, resolve
from .zones import check_zone

EPOCH = dt.datetime(1970, 1, 1)
FOREVER = dt.datetime(2105, 1, 1)
ORDER = "'Order Completed'"
# The mark (``visit_items.mark``) of the folded facts per pair of ids.
FOLD_JOB = "person_facts"


def site_as_of(warehouse: Warehouse, site_id: str) -> dt.datetime | None:
    """The site's latest event time: segments are judged as of it, so imported history reads right."""
    rows = warehouse.query(
        "SELECT max(timestamp) AS t, count() AS n FROM events WHERE site_id = {site_id:String}", {"site_id": site_id}
    )
    if not rows or not rows[0]["n"]:
        return None
    return rows[0]["t"].replace(tzinfo=None)


def event_count(warehouse: Warehouse, site_id: str) -> int:
    """The site's events: how many parts ``person_facts`` is read, and the pairs folded, in."""
    return int(
        warehouse.scalar("SELECT count() FROM events WHERE site_id = {site_id:String}", {"site_id": site_id}) or 0
    )


# Identities whose person is not their own id (stitched to another), with
# that person: a part's rows are those whose own id falls in it, and these
# (few), whose person is known only after the join.
_MOVED_PEOPLE = f"""
    SELECT identity, mapped_person FROM ({CURRENT_PEOPLE}) AS current
    WHERE mapped_person != '' AND mapped_person != replaceRegexpOne(identity, '^[a-z]+:', '')
"""
_MOVED = f"SELECT identity FROM ({_MOVED_PEOPLE})"
_PART_ROWS = (
    f"({{parts:UInt64}} = 1 OR cityHash64({RAW_PERSON}) % {{parts:UInt64}} = {{part:UInt64}} "
    f"OR {EVENT_IDENTITY} IN ({_MOVED}))"
)


_FACT_COLUMNS = (
    "seen_from seen_to days views adds order_keys sales deal_keys first_order last_order last_cart carts".split()
)

# An order's key, whether it had a deal, and a cart line's value: read from the events, or as copied.
_EVENT_TERMS = {
    "channel": CHANNEL_ID_COLUMN,
    "order_key": "if(order_id != '', order_id, message_id)",
    "deal": f"""event = {ORDER}
                   AND (visitParamExtractString(properties, 'coupon') != ''
                        OR visitParamExtractFloat(properties, 'discount') > 0)""",
    "line_value": "price * greatest(quantity, 1)",
}
_COPIED_TERMS = {"channel": "channel_id", "order_key": "order_key", "deal": "deal = 1", "line_value": "line_value"}


def _event_facts(scope: str, table: str = "events", terms: dict = _EVENT_TERMS, by: tuple[str, str] = ("", "")) -> str:
    """Facts per pair of ids from the site's events that ``scope`` picks (up to ``until``; the order
    events alone under ``orders_only``), read from ``events`` (bots left out) or a copy (``fact_rows``);
    ``by`` adds keys to the pair's (as selected, as grouped by)."""
    not_bots = "is_bot = 0 AND " if table == "events" else ""
    return f"""
        SELECT {by[0]}anonymous_id, user_id, {terms["channel"]},
               min(timestamp) AS seen_from, max(timestamp) AS seen_to,
               groupUniqArray(toDate(timestamp)) AS days,
               countIf(event IN ('Product Viewed', 'Product Clicked')) AS views,
               countIf(event = 'Product Added') AS adds,
               groupUniqArrayIf({terms["order_key"]}, event = {ORDER}) AS order_keys,
               sumIf(revenue, event = {ORDER}) AS sales,
               groupUniqArrayIf({terms["order_key"]}, event = {ORDER} AND {terms["deal"]}) AS deal_keys,
               minIf(timestamp, event = {ORDER}) AS first_order,
               maxIf(timestamp, event = {ORDER}) AS last_order,
               maxIf(timestamp, event = 'Product Added') AS last_cart,
               arrayFilter(c -> c.2 > last_order,
                           groupArrayIf(({terms["line_value"]}, timestamp), event = 'Product Added')) AS carts
        FROM {table}
        WHERE site_id = {{site_id:String}} AND {not_bots}timestamp <= {{until:DateTime('UTC')}}
          AND (event = {ORDER} OR NOT {{orders_only:UInt8}}) AND {scope}
        GROUP BY {by[1]}anonymous_id, user_id, channel_id
    """


# The segments' backfill's copy of the site's events as the facts read them (``fact_rows``), each row in
# the bucket of its person: its identity's if the identity was stitched to another, else its own id.
_COPY_FACTS = f"""
    INSERT INTO fact_rows (site_id, run, bucket, anonymous_id, user_id, channel_id, timestamp, event, order_key,
                           revenue, deal, line_value)
    SELECT {{site_id:String}}, {{run:UInt64}},
           cityHash64(if(mapped_person != '', mapped_person, raw_person)) % {mining_rows.BUCKETS},
           anonymous_id, user_id, channel_id, timestamp, event, order_key, revenue, deal, line_value
    FROM (
        SELECT anonymous_id, user_id, channel_id, {EVENT_IDENTITY} AS identity, {RAW_PERSON} AS raw_person,
               timestamp, event, order_key, revenue, deal, line_value
        FROM (
            SELECT anonymous_id, user_id, {CHANNEL_ID_COLUMN}, timestamp, event,
                   {_EVENT_TERMS["order_key"]} AS order_key, revenue, toUInt8({_EVENT_TERMS["deal"]}) AS deal,
                   {_EVENT_TERMS["line_value"]} AS line_value
            FROM events WHERE site_id = {{site_id:String}} AND is_bot = 0
        )
    ) AS copied ANY LEFT JOIN ({_MOVED_PEOPLE}) AS moved USING identity
"""


# The day before ``as_of`` an event falls in, as the latest time judged with it: ``as_of`` less whole days
# (at most ``days``: every older event is judged with each of them).
_UPTO = (
    "{as_of:DateTime('UTC')} - 86400 * least(intDiv(toUInt32({as_of:DateTime('UTC')}) - toUInt32(timestamp), 86400), "
    "{days:UInt32})"
)
# One part of the copy folded into ``fact_days``: facts per pair of ids and day, as ``id_pair_facts`` holds them.
_BY_DAY = (f"bucket, {_UPTO} AS upto, ", "bucket, upto, ")
_FOLD_DAYS = f"""
    INSERT INTO fact_days (site_id, run, bucket, anonymous_id, user_id, channel_id, upto, seen_from, seen_to, days,
                           views, adds, order_keys, sales, deal_keys, first_order, last_order, last_cart,
                           cart_values, cart_times)
    SELECT {{site_id:String}}, {{run:UInt64}}, bucket, anonymous_id, user_id, channel_id, upto, seen_from, seen_to,
           days, views, adds, order_keys, sales, deal_keys, first_order, last_order, last_cart,
           arrayMap(c -> c.1, carts), arrayMap(c -> c.2, carts)
    FROM ({_event_facts(mining_rows.PART, "fact_rows", _COPIED_TERMS, _BY_DAY)})
"""
# The facts per pair of ids up to ``until`` (a day of the copy's), from the pair's rows of ``fact_days``
# up to it, in ``_event_facts``' columns.
_DAY_FACTS = f"""
    SELECT anonymous_id, user_id, channel_id, first_seen AS seen_from, last_seen AS seen_to, active_days AS days,
           view_count AS views, add_count AS adds, ordered AS order_keys, revenue AS sales, deals AS deal_keys,
           first_ordered AS first_order, last_ordered AS last_order, last_carted AS last_cart,
           arrayFilter(c -> c.2 > last_ordered, cart_list) AS carts
    FROM (
        SELECT anonymous_id, user_id, channel_id, min(seen_from) AS first_seen, max(seen_to) AS last_seen,
               groupUniqArrayArray(days) AS active_days, sum(views) AS view_count, sum(adds) AS add_count,
               groupUniqArrayArray(order_keys) AS ordered, sum(sales) AS revenue,
               groupUniqArrayArray(deal_keys) AS deals, minIf(first_order, length(order_keys) > 0) AS first_ordered,
               max(last_order) AS last_ordered, max(last_cart) AS last_carted,
               groupArrayArray(arrayMap((v, t) -> (v, t), cart_values, cart_times)) AS cart_list
        FROM fact_days
        WHERE site_id = {{site_id:String}} AND {mining_rows.PART} AND upto <= {{until:DateTime('UTC')}}
        GROUP BY anonymous_id, user_id, channel_id
    )
"""


@contextmanager
def copied_facts(
    warehouse: Warehouse, site_id: str, run: int, as_of: dt.datetime, days: int, parts: int = 1
) -> Iterator[int]:
    """The site's facts per pair of ids and day before ``as_of`` (the last ``days``; older events in one row),
    by a bucket of the person, for the ``with`` block.

    The backfill judges the people as of each of ``days`` days before
    ``as_of``, a part at a time (``person_facts(..., run=)``, with ``until``
    one of those days): each part reads its own people's rows, and a pair has
    a row a day it was seen, not one an event. The events are copied first
    (``fact_rows``, sorted by bucket) and folded by day from there in
    ``parts``; the copy goes once folded, the folded rows when the block ends.
    """
    params = {"site_id": site_id, "run": run, "as_of": as_of, "until": as_of, "days": int(days), "orders_only": 0}

    def fold_by_day() -> None:
        with mining_rows.copying(warehouse, "fact_rows", run, _COPY_FACTS, params):
            for part in range(parts):
                warehouse.execute(
                    _FOLD_DAYS + mining_rows.one_thread(warehouse), params | mining_rows.bounds(part, parts)
                )

    with mining_rows.filled(warehouse, "fact_days", run, fold_by_day):
        yield run


# The folded facts of the pairs of a part (and of the moved identities), as ``_event_facts`` gives them.
_FOLDED_FACTS = f"""
    SELECT anonymous_id, user_id, channel_id, seen_from, seen_to, days, views, adds, order_keys, sales,
           deal_keys, first_order, last_order, last_cart,
           arrayMap((v, t) -> (v, t), cart_values, cart_times) AS carts
    FROM id_pair_facts FINAL
    WHERE site_id = {{site_id:String}} AND generation = {{generation:UInt64}} AND deleted = 0
      AND (length(order_keys) > 0 OR NOT {{orders_only:UInt8}}) AND {_PART_ROWS}
"""


# The pairs of ids of a folded generation written since a version (refolded, or tombstoned), with their person.
_REFOLDED_PAIRS = """
    SELECT anonymous_id, user_id, channel_id FROM id_pair_facts
    WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND version > {since:UInt64}
"""
# The people whose facts may differ from what they were at version ``since``: those of the pairs refolded
# since, and every person and own id that an identity mapped anew since ever had (``identity_history``).
_CHANGED_PEOPLE = f"""
    SELECT person_id FROM ({resolve(_REFOLDED_PAIRS, ["user_id"])})
    UNION ALL
    SELECT person_id FROM identity_history
    WHERE site_id = {{site_id:String}} AND person_id != '' AND identity IN (
        SELECT identity FROM identity_history WHERE site_id = {{site_id:String}} AND version > {{since:UInt64}})
    UNION ALL
    SELECT replaceRegexpOne(identity, '^[a-z]+:', '') AS person_id FROM identity_history
    WHERE site_id = {{site_id:String}} AND version > {{since:UInt64}}
"""
# The times ``person_facts`` can pick people by (``judged``'s bands).
BAND_COLUMNS = ("first_seen", "last_seen", "last_cart_at")


def changed_people(warehouse: Warehouse, site_id: str, generation: int, since: int) -> list[str]:
    """The people whose facts may have changed since ``since`` (a version), as ``_CHANGED_PEOPLE`` finds them."""
    rows = warehouse.query(
        f"SELECT DISTINCT person_id FROM ({_CHANGED_PEOPLE}) WHERE person_id != ''",
        {"site_id": site_id, "generation": generation, "since": since},
    )
    return [row["person_id"] for row in rows]


def _judged(judged: dict | None) -> tuple[str, dict]:
    """``person_facts``' condition on a person for ``judged``, and its parameters."""
    if judged is None:
        return "1", {}
    terms, params = ["orders > 0", f"person_id IN ({_CHANGED_PEOPLE})"], {"since": int(judged["since"])}
    for i, (column, first, last) in enumerate(judged["bands"]):
        if column not in BAND_COLUMNS:
            raise ValueError(f"not a time of the facts: {column!r}")
        terms.append(f"{column} BETWEEN {{band_{i}_first:DateTime('UTC')}} AND {{band_{i}_last:DateTime('UTC')}}")
        params |= {f"band_{i}_first": first, f"band_{i}_last": last}
    return " OR ".join(terms), params


def person_facts(
    warehouse: Warehouse,
    site_id: str,
    until: dt.datetime | None = None,
    orders_only: bool = False,
    part: int = 0,
    parts: int = 1,
    generation: int | None = None,
    run: int = 0,
    judged: dict | None = None,
) -> pd.DataFrame:
    """Per person: when seen, what viewed, carted and ordered, and the cart left open since the last order.

    Facts are gathered per pair of ids, then combined per person: counts add
    up, days and orders are unions (a device and a login may share both).
    Carts added before the ids' own last order are dropped early: the
    person's last order is no earlier, so they cannot be open.

    ``generation`` reads the pairs' facts as folded (``id_pair_facts``, kept up
    to date by ``fold_part`` and ``fold_changed``) rather than from every
    event: the same rows, read in one pass over the pairs. Without it they
    are gathered from the events, and ``until`` reads only events up to that
    time: the facts as they stood then (the segments' backfill).

    ``orders_only`` keeps the people with an order, for the scores model:
    their order columns (``orders``, ``revenue``, ``deal_orders``,
    ``first_order_at``, ``last_order_at``) are exact, and Python holds a row
    per customer. From the events it reads the order events alone (the other
    columns then describe the orders only); from the fold, the pairs with an
    order (the other columns describe all of those pairs' events).

    ``part`` of ``parts`` reads the people whose id hashes to it
    (``cityHash64(person_id) % parts``): ClickHouse aggregates, and the caller
    holds, one part of the people at a time; the parts together are every person.
    With ``run`` (the facts by day of ``copied_facts``) a part is a range
    of the copy's buckets, whose rows are every day of its people's pairs;
    ``until`` is then one of the copy's days.

    ``judged`` (with ``generation``) keeps only the people a segments run
    must judge again: every buyer, the people ``_CHANGED_PEOPLE`` names
    since the version ``since``, and those with a time in one of ``bands``
    (``(column, first, last)``, of ``BAND_COLUMNS``).
    """
    picked, picked_params = _judged(judged)
    people = "{parts:UInt64} = 1 OR cityHash64(person_id) % {parts:UInt64} = {part:UInt64}"
    if generation is not None:
        per_ids = _FOLDED_FACTS
    elif run:
        per_ids, people = _DAY_FACTS, mining_rows.in_part("person_id")
    else:
        per_ids = _event_facts(_PART_ROWS)
    frame = warehouse.query_df(
        f"""
        SELECT person_id, first_seen, last_seen, active_days, product_views, cart_adds, orders, revenue,
               deal_orders, first_order_at, last_order_at, last_cart_at,
               arraySum(arrayMap(c -> c.1, arrayFilter(c -> c.2 > last_order_at, cart_list))) AS open_cart_value
        FROM (
            SELECT person_id, min(seen_from) AS first_seen, max(seen_to) AS last_seen,
                   length(groupUniqArrayArray(days)) AS active_days,
                   sum(views) AS product_views, sum(adds) AS cart_adds,
                   length(groupUniqArrayArray(order_keys)) AS orders, sum(sales) AS revenue,
                   length(groupUniqArrayArray(deal_keys)) AS deal_orders,
                   minIf(first_order, length(order_keys) > 0) AS first_order_at,
                   max(last_order) AS last_order_at, max(last_cart) AS last_cart_at,
                   groupArrayArray(carts) AS cart_list
            FROM ({resolve(per_ids, _FACT_COLUMNS)})
            WHERE {people}
            GROUP BY person_id
        )
        WHERE person_id != '' AND (orders > 0 OR NOT {{orders_only:UInt8}}) AND ({picked})
        """,
        {
            "site_id": site_id,
            "until": until or FOREVER,
            "orders_only": int(orders_only),
            "part": part,
            "parts": max(int(parts), 1),
            "generation": generation or 0,
            "run": run,
        }
        | mining_rows.bounds(part, max(int(parts), 1))
        | picked_params,
    )
    if frame.empty:  # chDB answers no columns for no rows
        times = dict.fromkeys(["first_seen", "last_seen", "first_order_at", "last_order_at", "last_cart_at"])
        numbers = ["active_days", "product_views", "cart_adds", "orders", "revenue", "deal_orders", "open_cart_value"]
        columns = {"person_id": pd.Series(dtype=object)} | {c: pd.Series(dtype="datetime64[s]") for c in times}
        frame = pd.DataFrame(columns | {c: pd.Series(dtype="float64") for c in numbers})
    return frame


FOLD_COLUMNS = (
    "site_id, generation, anonymous_id, user_id, channel_id, seen_from, seen_to, days, views, adds, order_keys, "
    "sales, deal_keys, first_order, last_order, last_cart, cart_values, cart_times, deleted, version"
)


def _fold(facts: str) -> str:
    """``INSERT`` of the facts per pair of ids ``facts`` (``_event_facts``), as ``person_facts`` reads them folded."""
    return f"""
        INSERT INTO id_pair_facts ({FOLD_COLUMNS})
        SELECT {{site_id:String}} AS site_id, {{generation:UInt64}} AS generation, anonymous_id, user_id, channel_id,
               seen_from, seen_to, days, views, adds, order_keys, sales, deal_keys, first_order, last_order,
               last_cart, arrayMap(c -> c.1, carts) AS cart_values, arrayMap(c -> c.2, carts) AS cart_times,
               toUInt8(0) AS deleted, {{version:UInt64}} AS version
        FROM ({facts})
    """


def fold_part(warehouse: Warehouse, site_id: str, generation: int, part: int, parts: int) -> None:
    """A full fold, one part of the pairs of ids (by hash), under a new ``generation``.

    Read from the events, not from a copy by person as the backfill's: a fold
    reads the events once a part, the backfill once a part and day, and the
    copy cost more than the reads it saved (scores at 10M events: 8.7 s
    against 5.4 s; at 30M, 26.2 s against 23.2 s)."""
    warehouse.execute(
        _fold(_event_facts("cityHash64(anonymous_id, user_id) % {parts:UInt64} = {part:UInt64}")),
        {"site_id": site_id, "generation": generation, "version": generation, "part": part, "parts": parts,
         "until": FOREVER, "orders_only": 0},
    )  # fmt: skip


# Events received in (since, upto].
_RECEIVED = """
    SELECT {column} FROM events
    WHERE site_id = {{site_id:String}} AND received_at > {{since:DateTime('UTC')}}
      AND received_at <= {{upto:DateTime('UTC')}}
"""
# The pairs whose anonymous id and user id both had events received in (since, upto]: every pair with new
# events, and a few more (a pair refolded with no new events gets its rows again). Two lookups of one
# column each cost a fifth of one lookup of the pair, over every event of the site.
_RECEIVED_PAIRS = (
    f"(anonymous_id IN ({_RECEIVED.format(column='anonymous_id')}) "
    f"AND user_id IN ({_RECEIVED.format(column='user_id')}))"
)
# Pairs whose first event is past the retention limit (``days``, 0 for none): their facts lose those events.
_EXPIRING = """
    SELECT anonymous_id, user_id FROM id_pair_facts $FINAL
    WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND deleted = 0
      AND {days:UInt32} > 0 AND seen_from < now() - toIntervalDay({days:UInt32})
"""


def fold_changed(
    warehouse: Warehouse,
    site_id: str,
    generation: int,
    since: dt.datetime,
    upto: dt.datetime,
    version: int,
    days: int = 0,
) -> None:
    """Refold the pairs of ids with events received in (since, upto], and those with events past ``days``.

    A tombstone for each of their rows (under ``version``), then their rows
    anew (``version + 1``); a pair left with no events keeps only its
    tombstone. ``days`` is the events' retention (0: kept forever).
    """
    params = {"site_id": site_id, "generation": generation, "since": since, "upto": upto, "days": int(days)}
    # Pairs past the retention are few (a day's worth a day): the folded rows are read in full only when there are.
    expiring = warehouse.scalar(f"SELECT count() FROM ({_EXPIRING.replace('$FINAL', '')})", params)
    changed = _RECEIVED_PAIRS
    if expiring:
        changed += f" OR (anonymous_id, user_id) IN ({_EXPIRING.replace('$FINAL', 'FINAL')})"
    warehouse.execute(
        f"""
        INSERT INTO id_pair_facts (site_id, generation, anonymous_id, user_id, channel_id, seen_to, deleted, version)
        SELECT site_id, generation, anonymous_id, user_id, channel_id, max(seen_to), toUInt8(1) AS deleted,
               {{version:UInt64}} AS version
        FROM id_pair_facts
        WHERE site_id = {{site_id:String}} AND generation = {{generation:UInt64}} AND ({changed})
        GROUP BY site_id, generation, anonymous_id, user_id, channel_id
        """,
        {**params, "version": version},
    )
    # The new rows: of the received pairs, and of those just retired past the retention (read back by their
    # tombstones' version: they are no longer past it once tombstoned).
    scope = _RECEIVED_PAIRS
    if expiring:
        scope += """ OR (anonymous_id, user_id) IN (
            SELECT anonymous_id, user_id FROM id_pair_facts
            WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND version = {retired:UInt64})"""
    params |= {"version": version + 1, "retired": version, "until": FOREVER, "orders_only": 0}
    warehouse.execute(_fold(_event_facts(f"({scope})")), params)


def fold_rows(warehouse: Warehouse, site_id: str, generation: int) -> int:
    """Rows stored for the generation (versions not yet merged count each): how many parts ``person_facts`` reads."""
    return int(
        warehouse.scalar(
            "SELECT count() FROM id_pair_facts WHERE site_id = {site_id:String} AND generation = {generation:UInt64}",
            {"site_id": site_id, "generation": generation},
        )
        or 0
    )


def drop_old_generations(warehouse: Warehouse) -> int:
    """Delete every site's folded facts but those of its current generation; returns the sites pruned."""
    return visit_items.drop_old_generations(warehouse, job=FOLD_JOB, tables=("id_pair_facts",))


# The stays still open: each stay's newest row (FINAL merges the rows of a key in sort order, where a
# GROUP BY over the whole history held it all in memory and spilled to disk past CLICKHOUSE_SPILL_MB).
_OPEN = """
SELECT segment, person_id, entered_at, value, left_at AS left
FROM segment_members FINAL
WHERE site_id = {site_id:String} AND left_at = toDateTime(0, 'UTC')
"""


def open_memberships(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """Every stay still open: who is in which segment now, since when."""
    frame = warehouse.query_df(f"SELECT segment, person_id, entered_at, value FROM ({_OPEN})", {"site_id": site_id})
    frame["entered_at"] = pd.to_datetime(frame["entered_at"], utc=True).dt.tz_localize(None).astype("datetime64[s]")
    frame["value"] = frame["value"].astype("float64")
    return frame


def write_memberships(warehouse: Warehouse, site_id: str, rows: pd.DataFrame) -> int:
    """Append stays (opened, closed or revalued); the newest version of a stay wins."""
    if rows.empty:
        return 0
    frame = rows[["segment", "person_id", "entered_at", "left_at", "value"]].copy()
    frame.insert(0, "site_id", site_id)
    frame["entered_at"] = frame["entered_at"].astype("datetime64[s]")
    frame["left_at"] = frame["left_at"].astype("datetime64[s]")
    frame["value"] = frame["value"].astype("float64")
    frame["version"] = pd.Series(range(len(frame)), dtype="uint64") + time.time_ns()
    return warehouse.insert("segment_members", frame.reset_index(drop=True))


# A stay's key as one string, so that a delete can name stays in a bound array.
_STAY = "concat(person_id, '|', toString(toUInt32(entered_at)))"
# Closing rows of stays that ended before ``cutoff``. A stay is closed once, by its newest row, and a
# member who comes back opens a stay of their own (another entry time): so these find the ended stays
# without grouping every row of the history.
_CLOSED = """
    FROM segment_members
    WHERE left_at > toDateTime(0, 'UTC') AND left_at < {cutoff:DateTime('UTC')}
      AND entered_at < {cutoff:DateTime('UTC')}
"""
# Every row of the ended stays ``stays`` names (``_STAY``) of one site and segment: the rows a delete takes.
ENDED_ROWS = (
    "site_id = {site_id:String} AND segment = {segment:String} AND entered_at < {cutoff:DateTime('UTC')} "
    f"AND {_STAY} IN (SELECT arrayJoin({{stays:Array(String)}}))"
)
# Stays read a statement at most.
EXPIRE_BATCH = 50_000
# Characters of stays' keys a delete names at most, on a server: the statement goes as text, under the
# server's default max_query_size (256 KiB) and, over a cluster, ZooKeeper's 1 MB a node. chDB binds them.
EXPIRE_CHARS = 200_000


def ended_stays(warehouse: Warehouse, cutoff: dt.datetime, limit: int = EXPIRE_BATCH) -> dict | None:
    """Up to ``limit`` stays of one site and segment that ended before ``cutoff``, as ``ENDED_ROWS`` binds
    them (``site_id``, ``segment``, ``cutoff``, ``stays``); None when there are none."""
    params = {"cutoff": cutoff, "limit": limit}
    pair = warehouse.query(f"SELECT site_id, segment {_CLOSED} LIMIT 1", params)
    if not pair:
        return None
    stays = warehouse.query(
        f"SELECT DISTINCT {_STAY} AS stay {_CLOSED} AND site_id = {{site_id:String}} AND segment = {{segment:String}} "
        "LIMIT {limit:UInt32}",
        params | pair[0],
    )
    return {**pair[0], "cutoff": cutoff, "stays": [r["stay"] for r in stays]}


def _chunks(stays: list[str], chars: int | None) -> Iterator[list[str]]:
    """``stays`` in runs of at most ``chars`` characters (at least one stay each); all at once for None."""
    if chars is None:
        yield stays
        return
    run, size = [], 0
    for stay in stays:
        if run and size + len(stay) + 3 > chars:
            yield run
            run, size = [], 0
        run.append(stay)
        size += len(stay) + 3
    if run:
        yield run


def expire_stays(
    warehouse: Warehouse,
    days: int,
    now: dt.datetime | None = None,
    chars: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> int:
    """Delete the stays that ended more than ``days`` ago (0: none), as the events they were judged on
    go; returns how many. Open stays are kept however old.

    A stay's rows share its key (segment, person, entry) and a read takes the
    newest: deleting the closing row alone would leave the opening one, read
    as open again. So every row of each ended stay goes, named by its key, in
    deletes of at most ``chars`` characters of keys (``EXPIRE_CHARS`` on a server).
    """
    if days <= 0:
        return 0
    if chars is None and not warehouse.features.get("embedded"):
        chars = EXPIRE_CHARS
    now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    cutoff, expired, last = now - dt.timedelta(days=int(days)), 0, None
    while found := ended_stays(warehouse, cutoff):
        if (found["site_id"], found["segment"], found["stays"][0]) == last:
            raise WarehouseError(f"segment stays of {found['segment']!r} were not deleted")
        last = (found["site_id"], found["segment"], found["stays"][0])
        for run in _chunks(found["stays"], chars):
            erasure.delete_rows(warehouse, "segment_members", ENDED_ROWS, {**found, "stays": run})
        expired += len(found["stays"])
        progress(f"retention: {expired:,} ended segment stays deleted")
    return expired


def has_history(warehouse: Warehouse, site_id: str) -> bool:
    """Whether the site has any stay recorded, open or closed."""
    return bool(
        warehouse.scalar("SELECT count() FROM segment_members WHERE site_id = {site_id:String}", {"site_id": site_id})
    )


def segment_sizes(warehouse: Warehouse, site_id: str) -> list[dict]:
    """Current size and total value of each segment."""
    return warehouse.query(
        f"SELECT segment, count() AS size, sum(value) AS value FROM ({_OPEN}) GROUP BY segment ORDER BY segment",
        {"site_id": site_id},
    )


def segment_trend(
    warehouse: Warehouse, site_id: str, segment: str, end: dt.datetime, days: int = 30, timezone: str = "UTC"
) -> list[dict]:
    """Members at ``end`` and the same time each of the ``days`` - 1 days before, from the stays' history;
    each point dated by its day in ``timezone`` (the site's)."""
    return warehouse.query(
        """
        SELECT toDate(toTimeZone(day, {timezone:String})) AS date,
               countIf(entered_at <= day AND (left = toDateTime(0, 'UTC') OR left > day)) AS size
        FROM (
            SELECT entered_at, argMax(left_at, version) AS left
            FROM segment_members
            WHERE site_id = {site_id:String} AND segment = {segment:String}
            GROUP BY person_id, entered_at
        )
        ARRAY JOIN arrayMap(i -> toDateTime({end:DateTime('UTC')}) - i * 86400, range({days:UInt32})) AS day
        GROUP BY day
        ORDER BY day
        """,
        {"site_id": site_id, "segment": segment, "end": end, "days": days, "timezone": check_zone(timezone)},
    )


# The member list sorts by these columns only: the name picks the SQL.
MEMBER_SORTS = {"value": "value", "since": "entered_at"}


def segment_members(
    warehouse: Warehouse,
    site_id: str,
    segment: str,
    limit: int = 1_000_000,
    offset: int = 0,
    sort: str = "value",
    descending: bool = True,
) -> pd.DataFrame:
    """Current members, most valuable first (value is the cart for abandoners, spend for RFM cells)."""
    order = f"{MEMBER_SORTS.get(sort, 'value')} {'DESC' if descending else 'ASC'}"
    return warehouse.query_df(
        f"""
        SELECT person_id, entered_at, value FROM ({_OPEN}) WHERE segment = {{segment:String}}
        ORDER BY {order}, person_id LIMIT {{offset:UInt32}}, {{limit:UInt32}}
        """,
        {"site_id": site_id, "segment": segment, "limit": limit, "offset": offset},
    )


def current_segments(warehouse: Warehouse, site_id: str, keys: list[str]) -> list[dict]:
    """The segments one person is in now, read under each key the jobs may file them by."""
    return warehouse.query(
        """
        SELECT segment, entered_at, argMax(value, version) AS value, argMax(left_at, version) AS left
        FROM segment_members
        WHERE site_id = {site_id:String} AND person_id IN (SELECT arrayJoin({keys:Array(String)}))
        GROUP BY segment, person_id, entered_at
        HAVING left = toDateTime(0, 'UTC')
        ORDER BY segment
        """,
        {"site_id": site_id, "keys": keys},
    )
