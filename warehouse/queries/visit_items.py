"""Each visit's products, folded from the events once and kept up to date.

Visits are the product's own (``sessions``, cut by ``SESSION_TIMEOUT_MINUTES``):
an event belongs to its visitor's latest visit started at or before it. A
full fold starts a generation and reads the visitors in parts by hash; later
folds read only the visitors with events received since the last one, and
rewrite all their visits (a tombstone, then the visits under a new version).

Co-occurrence weights follow the folded visits in ``rec_pair_weights``: a
full fold sums every visit's weights once its parts are written, a share of
the items at a time, so that each pair starts as one row; a later fold adds
the weights of the visits it writes and the negated weights of those it
replaces, so the sums are always those of the current visits and a run costs
what the new events touch. A visit weighs 2^(age/half-life) against the
generation's start, a factor common to every weight that the cosine
normalisation cancels.

Every statement runs on ClickHouse 18.16 (no lambda captures, one JOIN per
SELECT).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from warehouse.engine.connection import Warehouse

from . import mining_rows
from .mining import _typed, interactions_sql
from .sessions import VISITOR

_TOUCHED = f"""
    SELECT {VISITOR} FROM events
    WHERE site_id = {{site_id:String}} AND received_at > {{since:DateTime('UTC')}}
      AND received_at <= {{upto:DateTime('UTC')}}
"""
BY_TOUCHED = f"{VISITOR} IN ({_TOUCHED})"


def _session_events(interactions: str, visit_scope: str) -> str:
    """Each interaction of ``interactions`` (``visitor_id, item_id, kind, time``) with its visit:
    "<visitor>#<n>", n the count of the visitor's visits started at or before it (0 before the first);
    ``visit_scope`` picks the same visitors' visits."""
    return f"""
    SELECT visitor_id, concat(visitor_id, '#', toString(visit)) AS session_id, item_id, kind, time,
           arrayCount((s, t) -> s <= t, starts, arrayResize([time], length(starts), time)) AS visit
    FROM ({interactions}) AS interactions
    ANY LEFT JOIN (
        SELECT visitor_id, groupArray(toUInt32(started_at)) AS starts
        FROM sessions FINAL
        WHERE site_id = {{site_id:String}} AND deleted = 0 AND {visit_scope}
        GROUP BY visitor_id
    ) AS visits USING visitor_id
    """


def _folded(interactions: str, visit_scope: str) -> str:
    return f"""
    SELECT {{site_id:String}} AS site_id, {{generation:UInt64}} AS generation, visitor_id, session_id,
           toDateTime(last, 'UTC') AS last_seen,
           arraySlice(sequence, greatest(toInt64(length(sequence)) - {{max_items:UInt32}} + 1, 1)) AS items,
           arraySlice(distinct_seen, greatest(toInt64(length(distinct_seen)) - {{max_items:UInt32}} + 1, 1))
               AS views,
           arrayReverse(arrayFilter((x, k) -> k = 1, arrayReverse(bought),
                                    arrayEnumerateUniq(arrayReverse(bought)))) AS purchases,
           carted AS carts, toUInt8(0) AS deleted, {{version:UInt64}} AS version
    FROM (
        SELECT visitor_id, session_id, last, sequence, bought, carted,
               arrayReverse(arrayFilter((x, k) -> k = 1, arrayReverse(sequence),
                                        arrayEnumerateUniq(arrayReverse(sequence)))) AS distinct_seen
        FROM (
            SELECT any(visitor_id) AS visitor_id, session_id, max(time) AS last,
                   arrayMap(x -> x.2, arraySort(groupArrayIf((time, item_id), kind != 'purchase'))) AS sequence,
                   arrayMap(x -> x.2, arraySort(groupArrayIf((time, item_id), kind = 'purchase'))) AS bought,
                   arraySort(groupUniqArrayIf(item_id, kind = 'cart')) AS carted
            FROM ({_session_events(interactions, visit_scope)})
            GROUP BY session_id
        )
    )
    """


COLUMNS = "site_id, generation, visitor_id, session_id, last_seen, items, views, purchases, carts, deleted, version"

# The weights a set of folded visits ($ROWS of rec_session_items) add, times {sign}.
_CONTRIBUTIONS = """
    SELECT {site_id:String} AS site_id, {generation:UInt64} AS generation, relation, item_id, neighbor_id,
           sum(w) * {sign:Float64} AS weight
    FROM (
        SELECT w, rel.1 AS relation, item_id, arrayJoin(rel.2) AS neighbor_id FROM (
            SELECT w, arrayJoin(views) AS item_id,
                   arrayJoin([('also_viewed', views), ('bought_after_view', bought), ('viewed', [''])]) AS rel
            FROM ($VISITS)
            WHERE cityHash64(item_id) % {item_parts:UInt64} = {item_part:UInt64}
        )
        UNION ALL
        SELECT w, 'bought' AS relation, arrayJoin(bought) AS item_id, '' AS neighbor_id FROM ($VISITS)
        WHERE cityHash64(item_id) % {item_parts:UInt64} = {item_part:UInt64}
    )
    WHERE item_id != neighbor_id
    GROUP BY relation, item_id, neighbor_id
"""

_VISIT_WEIGHTS = """
    SELECT pow(2., (toFloat64(toUInt32(last_seen)) - {anchor:Float64}) / 86400. / {half_life:Float64}) AS w, views,
           arraySlice(purchases, greatest(toInt64(length(purchases)) - {max_items:UInt32} + 1, 1)) AS bought
    FROM rec_session_items $FINAL
    WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND $ROWS
"""


def _add_weights(warehouse: Warehouse, params: dict, rows: str, final: bool, sign: float, item_parts: int = 1) -> None:
    """Add the weights of the visits ``rows`` picks, summed a part of the items at a time (pairs outnumber visits)."""
    visits = _VISIT_WEIGHTS.replace("$FINAL", "FINAL" if final else "").replace("$ROWS", rows)
    for item_part in range(item_parts):
        warehouse.execute(
            "INSERT INTO rec_pair_weights (site_id, generation, relation, item_id, neighbor_id, weight) "
            + _CONTRIBUTIONS.replace("$VISITS", visits),
            {**params, "sign": sign, "item_part": item_part, "item_parts": item_parts},
        )


def _params(site_id: str, generation: int, half_life_days: float, max_items: int, days: int) -> dict:
    return {
        "site_id": site_id,
        "generation": generation,
        "anchor": generation / 1e9,
        "half_life": float(half_life_days),
        "max_items": max_items,
        "days": days,
    }


def fold_part(
    warehouse: Warehouse,
    site_id: str,
    generation: int,
    run: int,
    part: int,
    parts: int,
    max_items: int = 50,
) -> None:
    """A full fold, one part of the visitors copied under ``run`` (``mining.copied``): their visits
    under a new ``generation``; ``fold_weights`` sums the weights once every part is written.

    ``items`` is a visit's last ``max_items`` views and cart adds in time
    order (repeats kept: session-kNN weighs positions); ``views`` the distinct
    viewed or carted products by last occurrence, the last ``max_items``;
    ``purchases`` the distinct bought products by last purchase; ``carts`` the
    distinct carted products.
    """
    # The copy holds the mining window's interactions already (``mining.copied``'s ``days``).
    params = {"site_id": site_id, "generation": generation, "max_items": max_items, "version": generation, "run": run}
    params |= mining_rows.bounds(part, parts)
    by_part = mining_rows.in_part("visitor_id")
    interactions = mining_rows.part_rows("visitor_id", "visitor_id")
    warehouse.execute(f"INSERT INTO rec_session_items ({COLUMNS}) {_folded(interactions, by_part)}", params)


def fold_weights(
    warehouse: Warehouse,
    site_id: str,
    generation: int,
    item_parts: int,
    half_life_days: float = 30.0,
    max_items: int = 50,
) -> None:
    """The co-occurrence weights of a full fold's visits (``fold_part``), ``item_parts`` statements each
    summing the pairs of a share of the items over every visit.

    Summed per part of the visitors instead, a pair seen in ten parts was
    stored as ten rows until ClickHouse merged them, and the runs after a
    rebuild read every one to score the pairs; and each part read every visit
    folded so far, since a part's visitors are picked by hash, not by key.
    """
    params = _params(site_id, generation, half_life_days, max_items, 0) | {"version": generation}
    _add_weights(warehouse, params, "version = {version:UInt64}", final=False, sign=1.0, item_parts=item_parts)


def fold_touched(
    warehouse: Warehouse,
    site_id: str,
    generation: int,
    since: dt.datetime,
    upto: dt.datetime,
    version: int,
    half_life_days: float = 30.0,
    max_items: int = 50,
    days: int = 180,
) -> None:
    """Refold the visitors with events received in (since, upto]: retire their visits' weights and rows, add anew."""
    params = _params(site_id, generation, half_life_days, max_items, days) | {"since": since, "upto": upto}
    touched = f"visitor_id IN ({_TOUCHED})"
    current = f"deleted = 0 AND {touched}"
    _add_weights(warehouse, params, current, final=True, sign=-1.0)
    # The visits are picked in a subquery: an alias ``deleted`` beside the condition would stand for its column.
    warehouse.execute(
        f"""
        INSERT INTO rec_session_items (site_id, generation, visitor_id, session_id, deleted, version)
        SELECT site_id, generation, visitor_id, session_id, toUInt8(1) AS deleted, {{version:UInt64}} AS version
        FROM (
            SELECT site_id, generation, visitor_id, session_id FROM rec_session_items FINAL
            WHERE site_id = {{site_id:String}} AND generation = {{generation:UInt64}} AND {current}
        )
        """,
        {**params, "version": version},
    )
    fresh = version + 1
    warehouse.execute(
        f"INSERT INTO rec_session_items ({COLUMNS}) {_folded(interactions_sql(BY_TOUCHED), touched)}",
        {**params, "version": fresh},
    )
    _add_weights(warehouse, {**params, "version": fresh}, "version = {version:UInt64}", final=False, sign=1.0)


def mark(warehouse: Warehouse, site_id: str, job: str = "visit_items") -> dict | None:
    """``generation`` and ``high_water`` (naive UTC) of the site's folded visits (or another job's), or None."""
    rows = warehouse.query(
        """
        SELECT argMax(generation, version) AS generation, argMax(high_water, version) AS high_water,
               max(version) AS latest
        FROM mining_marks WHERE site_id = {site_id:String} AND job = {job:String} GROUP BY site_id
        """,
        {"site_id": site_id, "job": job},
    )
    if not rows:
        return None
    high_water = rows[0]["high_water"]
    if high_water.tzinfo is not None:
        high_water = high_water.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return {"generation": int(rows[0]["generation"]), "high_water": high_water, "version": int(rows[0]["latest"])}


def set_mark(
    warehouse: Warehouse, site_id: str, generation: int, high_water: dt.datetime, version: int, job: str = "visit_items"
) -> None:
    frame = pd.DataFrame({"site_id": [site_id], "job": job, "generation": [generation], "high_water": [high_water]})
    frame["high_water"] = pd.to_datetime(frame["high_water"], utc=True).dt.tz_localize(None).astype("datetime64[s]")
    frame["version"] = version
    warehouse.insert("mining_marks", frame.astype({"generation": "uint64", "version": "uint64"}))


def drop_old_generations(
    warehouse: Warehouse, job: str = "visit_items", tables: tuple[str, ...] = ("rec_pair_weights", "rec_session_items")
) -> int:
    """Delete every site's rows of ``tables`` but those of the generation ``job`` marks current; returns sites pruned.

    The first table is the one looked at: a site with no old rows there is left alone.
    """
    rows = warehouse.query(
        """
        SELECT site_id, argMax(generation, version) AS current FROM mining_marks
        WHERE job = {job:String} GROUP BY site_id
        """,
        {"job": job},
    )
    pruned = 0
    for row in rows:
        params = {"site_id": row["site_id"], "keep": int(row["current"])}
        old = warehouse.scalar(
            f"SELECT count() FROM {tables[0]} WHERE site_id = {{site_id:String}} AND generation < {{keep:UInt64}}",
            params,
        )
        if not old:
            continue
        for table in tables:
            warehouse.execute(
                f"ALTER TABLE {table} DELETE WHERE site_id = {{site_id:String}} AND generation < {{keep:UInt64}}",
                params,
            )
        pruned += 1
    return pruned


def pair_ranges(warehouse: Warehouse, site_id: str, generation: int, rows_per_part: int) -> list[tuple[str, str]]:
    """Ranges of items, ``[first, next)`` (``''`` for no bound), each of about ``rows_per_part`` stored
    pair weights (parts not yet summed count each): the parts ``cooccurrence_neighbors`` scores.

    The table is sorted by item within each relation: a range reads only
    its own granules, where a part by hash of the item read every pair each
    time. An item's pairs are never split.
    """
    counts = warehouse.query_df(
        "SELECT item_id, count() AS n FROM rec_pair_weights WHERE site_id = {site_id:String} "
        "AND generation = {generation:UInt64} AND relation IN ('also_viewed', 'bought_after_view') "
        "GROUP BY item_id ORDER BY item_id",
        {"site_id": site_id, "generation": generation},
    )
    if counts.empty:
        return []
    n = counts["n"].astype("int64")
    part = ((n.cumsum() - n) // max(int(rows_per_part), 1)).to_numpy()
    starts = counts["item_id"][np.r_[True, part[1:] != part[:-1]]].tolist()
    return list(zip(["", *starts[1:]], [*starts[1:], ""]))


_ITEM_WEIGHTS = """
    SELECT item_id, sumIf(weight, relation = 'viewed') AS viewed, sumIf(weight, relation = 'bought') AS bought_w
    FROM rec_pair_weights
    WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND relation IN ('viewed', 'bought')
    GROUP BY item_id
"""


def cooccurrence_neighbors(
    warehouse: Warehouse, site_id: str, generation: int, items: tuple[str, str] = ("", ""), per_item: int = 50
) -> pd.DataFrame:
    """``relation, item_id, neighbor_id, score`` for the items of one range (``pair_ranges``).

    The model of ``recommender.cooccurrence.cooccurrence``: a pair's weight is
    the sum over the visits holding both, divided by the square root of the
    two items' own weights; ``also_viewed`` pairs views with views,
    ``bought_after_view`` views with purchases; the best ``per_item`` per item
    and relation.
    """
    first, after = items
    bounds = ("AND item_id >= {first:String} " if first else "") + ("AND item_id < {after:String}" if after else "")
    pairs = f"""
        SELECT relation, item_id, neighbor_id, sum(weight) AS weight FROM rec_pair_weights
        WHERE site_id = {{site_id:String}} AND generation = {{generation:UInt64}}
          AND relation IN ('also_viewed', 'bought_after_view') {bounds}
        GROUP BY relation, item_id, neighbor_id
        HAVING weight > 1e-9
    """
    with_left = f"""
        SELECT relation, item_id, neighbor_id, weight, viewed AS left_weight
        FROM ({pairs}) AS pairs ANY LEFT JOIN ({_ITEM_WEIGHTS}) AS items USING item_id
    """
    frame = warehouse.query_df(
        f"""
        SELECT relation, item_id, neighbor_id,
               weight / sqrt(left_weight * if(relation = 'also_viewed', viewed, bought_w)) AS score
        FROM ({with_left}) AS scored
        ANY LEFT JOIN (SELECT item_id AS neighbor_id, viewed, bought_w FROM ({_ITEM_WEIGHTS})) AS other
            USING neighbor_id
        ORDER BY relation, item_id, score DESC, neighbor_id
        LIMIT {{per_item:UInt32}} BY relation, item_id
        """,
        {"site_id": site_id, "generation": generation, "first": first, "after": after, "per_item": per_item},
    )
    return _typed(frame, ["relation", "item_id", "neighbor_id"], {"score": "float64"})


_CURRENT = """
    SELECT session_id, items, views, purchases, carts, last_seen FROM rec_session_items FINAL
    WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND deleted = 0
"""


def indexed_sessions(warehouse: Warehouse, site_id: str, generation: int, per_site: int = 50_000) -> pd.DataFrame:
    """``session_id, item_ids, last_seen``: the latest visits with two or more distinct viewed products."""
    frame = warehouse.query_df(
        f"""
        SELECT session_id, items AS item_ids, last_seen FROM ({_CURRENT}) WHERE length(views) >= 2
        ORDER BY last_seen DESC, session_id DESC LIMIT {{per_site:UInt32}}
        """,
        {"site_id": site_id, "generation": generation, "per_site": per_site},
    )
    return _typed(frame, ["session_id", "item_ids"], {"last_seen": "datetime64[s]"})
