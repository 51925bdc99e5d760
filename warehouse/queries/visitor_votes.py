"""Each visitor's interactions with each product, folded once and kept up to date, for popularity.

A visitor votes once per product (``recommender.mining.popularity_votes``):
their largest decayed weight, and their largest weight at or after, and
before, the trending cut. All three follow from the first and last time of
each kind (a decay is largest at the latest time; a kind was there after the
cut when its last time is, before it when its first time is), so
``rec_visitor_votes`` keeps those six times per visitor and product, and the
votes are exact for whatever reference time and cut a run reads them with.

A full fold starts a generation and reads the visitors in parts by hash;
later folds refold only the visitors with events received since the last
one, and those whose first interaction has left the mining window (a
tombstone for each of their rows, then their rows under a new version), so a
run reads the events of the visitors that changed and one pass over the
folded rows, whatever the events.

Every statement runs on ClickHouse 18.16 (one JOIN per SELECT, no window
functions).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from warehouse.engine.connection import Warehouse

from . import mining_rows, visit_items
from .mining import _typed, interactions_sql
from .sessions import VISITOR

COLUMNS = (
    "site_id, generation, visitor_id, item_id, first_view, last_view, first_cart, last_cart, "
    "first_purchase, last_purchase, first_seen, last_seen, deleted, version"
)


def _folded(interactions: str) -> str:
    """One row per visitor and product in ``interactions`` (``visitor_id, item_id, kind, time``)."""
    return f"""
    SELECT {{site_id:String}} AS site_id, {{generation:UInt64}} AS generation, visitor_id, item_id,
           minIf(time, kind = 'view') AS first_view, maxIf(time, kind = 'view') AS last_view,
           minIf(time, kind = 'cart') AS first_cart, maxIf(time, kind = 'cart') AS last_cart,
           minIf(time, kind = 'purchase') AS first_purchase, maxIf(time, kind = 'purchase') AS last_purchase,
           toDateTime(min(time), 'UTC') AS first_seen, toDateTime(max(time), 'UTC') AS last_seen,
           toUInt8(0) AS deleted, {{version:UInt64}} AS version
    FROM ({interactions})
    GROUP BY visitor_id, item_id
    """


def fold_part(warehouse: Warehouse, site_id: str, generation: int, run: int, part: int, parts: int) -> None:
    """A full fold, one part of the visitors copied under ``run`` (``mining.copied``), under a new
    ``generation``."""
    warehouse.execute(
        f"INSERT INTO rec_visitor_votes ({COLUMNS}) {_folded(mining_rows.part_rows('visitor_id', 'visitor_id'))}",
        {"site_id": site_id, "generation": generation, "version": generation, "run": run}
        | mining_rows.bounds(part, parts),
    )


# Visitors with events received in (since, upto].
_RECEIVED = f"""
    SELECT {VISITOR} FROM events
    WHERE site_id = {{site_id:String}} AND received_at > {{since:DateTime('UTC')}}
      AND received_at <= {{upto:DateTime('UTC')}}
"""
# Visitors with a folded interaction older than the window: it must leave their votes.
_EXPIRING = """
    SELECT visitor_id FROM rec_visitor_votes $FINAL
    WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND deleted = 0
      AND first_seen < now() - toIntervalDay({days:UInt32})
"""


def fold_changed(
    warehouse: Warehouse,
    site_id: str,
    generation: int,
    since: dt.datetime,
    upto: dt.datetime,
    version: int,
    days: int = 180,
) -> None:
    """Refold the visitors with events received in (since, upto], and those with interactions past the window.

    A tombstone for each of their rows (under ``version``), then their rows
    anew (``version + 1``); a product a visitor no longer has in the window
    keeps only its tombstone.
    """
    params = {"site_id": site_id, "generation": generation, "since": since, "upto": upto, "days": days}
    # Rows past the window are rare (a day's worth a day): the folded rows are read in full only when there are.
    expiring = warehouse.scalar(f"SELECT count() FROM ({_EXPIRING.replace('$FINAL', '')})", params)
    changed = _RECEIVED + (f"UNION ALL {_EXPIRING.replace('$FINAL', 'FINAL')}" if expiring else "")
    warehouse.execute(
        f"""
        INSERT INTO rec_visitor_votes (site_id, generation, visitor_id, item_id, last_seen, deleted, version)
        SELECT site_id, generation, visitor_id, item_id, max(last_seen), toUInt8(1) AS deleted,
               {{version:UInt64}} AS version
        FROM rec_visitor_votes
        WHERE site_id = {{site_id:String}} AND generation = {{generation:UInt64}} AND visitor_id IN ({changed})
        GROUP BY site_id, generation, visitor_id, item_id
        """,
        {**params, "version": version},
    )
    # Those just retired (read back by their tombstones' version: the expiring ones are not after it), and the new.
    retired = """
        SELECT visitor_id FROM rec_visitor_votes
        WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND version = {retired:UInt64}
    """
    scope = f"{VISITOR} IN ({_RECEIVED} UNION ALL {retired})"
    params |= {"version": version + 1, "retired": version}
    warehouse.execute(f"INSERT INTO rec_visitor_votes ({COLUMNS}) {_folded(interactions_sql(scope))}", params)


def drop_old_generations(warehouse: Warehouse) -> int:
    """Delete every site's folded votes but those of its current generation; returns the sites pruned."""
    return visit_items.drop_old_generations(warehouse, job="popularity", tables=("rec_visitor_votes",))


def _weight_of_kinds(condition: str) -> str:
    """The largest kind weight (purchase 5, cart 3, view 1) among the kinds whose ``condition`` holds, else 0."""
    cases = ", ".join(f"{condition.format(kind=kind)}, {weight}" for kind, weight in _KINDS)
    return f"multiIf({cases}, 0.)"


def _nested(function: str, terms: list[str]) -> str:
    """``function`` (greatest, least) over several terms, two at a time (18.16 takes two)."""
    return terms[0] if len(terms) == 1 else f"{function}({terms[0]}, {_nested(function, terms[1:])})"


_KINDS = (("purchase", 5.0), ("cart", 3.0), ("view", 1.0))
_AGE = "greatest({{now:Float64}} - toFloat64({time}), 0.)"
_DECAYED = _nested(
    "greatest",
    [
        f"if(last_{kind} > 0, {weight} * pow(0.5, {_AGE.format(time=f'last_{kind}')} / 86400. / 30.), 0.)"
        for kind, weight in _KINDS
    ],
)
_FIRST = _nested("least", [f"if(first_{kind} > 0, first_{kind}, 4294967295)" for kind, _w in _KINDS])


def popularity_votes(
    warehouse: Warehouse, site_id: str, generation: int, now: float, recent_cut: float
) -> pd.DataFrame:
    """``item_id, overall, visitors, recent, recent_visitors, older, older_start`` over the folded visitors.

    What ``recommender.mining.popularity_votes`` computes from every
    interaction: ``overall`` sums each visitor's largest decayed weight
    (30-day half-life); ``recent``/``older`` their largest weight at or
    after, and before, ``recent_cut``, with the visitors counted;
    ``older_start`` the earliest interaction before the cut.
    """
    after = _weight_of_kinds("last_{kind} >= {{cut:Float64}}")
    before = _weight_of_kinds("first_{kind} > 0 AND first_{kind} < {{cut:Float64}}")
    frame = warehouse.query_df(
        f"""
        SELECT item_id, sum(d) AS overall, count() AS visitors,
               sum(r) AS recent, countIf(r > 0) AS recent_visitors, sum(o) AS older,
               min(if(o > 0, first, 4294967295)) AS older_start
        FROM (
            SELECT item_id, {_DECAYED} AS d, {after} AS r, {before} AS o, {_FIRST} AS first
            FROM rec_visitor_votes FINAL
            WHERE site_id = {{site_id:String}} AND generation = {{generation:UInt64}} AND deleted = 0
        )
        GROUP BY item_id
        """,
        {"site_id": site_id, "generation": generation, "now": float(now), "cut": float(recent_cut)},
    )
    numbers = dict.fromkeys(["overall", "recent", "older"], "float64")
    numbers |= dict.fromkeys(["visitors", "recent_visitors"], "int64") | {"older_start": "float64"}
    return _typed(frame, ["item_id"], numbers).astype(numbers)
