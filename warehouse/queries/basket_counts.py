"""Basket counts for the "bought together" rules, kept up to date from the folded visits.

A basket is one visit's carted products, or its bought ones, when there are
two or more (a single product says nothing about what goes with it). The
rules need three kinds of count, all sums (``rec_basket_counts``): the
baskets, the baskets holding each product, and the baskets holding each pair
of products. Pairs are counted only among the products the generation chose
when it started (``rec_basket_items``), so their number stays bounded
whatever the baskets.

A full count starts a generation from the current folded visits
(``rec_session_items``), in parts of the visitors by hash. Later runs read
which visitors were refolded since (their visits' rows carry a later
version), add back negated the counts of their baskets as last counted
(``rec_visitor_baskets``, one row per visitor), and add those of their
baskets now: the sums are always those of the current visits, and a run
costs what the new events touched.

Every statement runs on ClickHouse 18.16 (no lambda captures, one JOIN per
SELECT).
"""

from __future__ import annotations

import pandas as pd

from warehouse.engine.connection import Warehouse

from . import visit_items
from .mining import _typed

COLUMNS = "site_id, generation, visitor_id, baskets, version"

# Each visitor's baskets among the folded visits $VISITS (visitor_id, deleted, carts, purchases); with
# {every:UInt8} = 1 also the visitors left without one (their row replaces the one last counted).
_VISITOR_BASKETS = """
    SELECT {site_id:String} AS site_id, {generation:UInt64} AS generation, visitor_id,
           groupArrayIf(basket, deleted = 0 AND length(basket) >= 2) AS baskets, {version:UInt64} AS version
    FROM (SELECT visitor_id, deleted, arrayJoin([carts, purchases]) AS basket FROM ($VISITS))
    GROUP BY visitor_id
    HAVING length(baskets) > 0 OR {every:UInt8} = 1
"""

# The current visits of one part of the visitors.
_PART_VISITS = """
    SELECT visitor_id, deleted, carts, purchases FROM rec_session_items FINAL
    WHERE site_id = {site_id:String} AND generation = {visits:UInt64} AND deleted = 0
      AND cityHash64(visitor_id) % {parts:UInt64} = {part:UInt64}
"""

# The current visits of the visitors refolded after version {since}: a refold rewrites every visit of
# the visitor (a tombstone or the visit anew), so their latest rows are all after it.
_CHANGED = """
    SELECT visitor_id FROM rec_session_items
    WHERE site_id = {site_id:String} AND generation = {visits:UInt64} AND version > {since:UInt64}
"""
_CHANGED_VISITS = """
    SELECT visitor_id, argMax(deleted, version) AS deleted, argMax(carts, version) AS carts,
           argMax(purchases, version) AS purchases
    FROM rec_session_items
    WHERE site_id = {site_id:String} AND generation = {visits:UInt64} AND version > {since:UInt64}
    GROUP BY visitor_id, session_id
"""

# The baskets of the visitor rows $ROWS picks.
_BASKETS = """
    SELECT arrayJoin(baskets) AS basket FROM rec_visitor_baskets $FINAL
    WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND $ROWS
"""

# The baskets, ('', ''), and the baskets holding each product, (item, ''), times {sign}.
_ITEM_COUNTS = """
    SELECT {site_id:String} AS site_id, {generation:UInt64} AS generation, key.1 AS item_id, key.2 AS neighbor_id,
           toInt64(count()) * {sign:Int64} AS baskets
    FROM (SELECT arrayJoin(arrayConcat([('', '')], arrayMap(x -> (x, ''), basket))) AS key FROM ($BASKETS))
    GROUP BY item_id, neighbor_id
"""

# The baskets holding each pair of counted products, item < neighbor, times {sign}. Each product is
# numbered by its place among the counted ones (sorted by id, so a smaller number is a smaller id), and
# each number of a basket pairs with the larger ones after it: pairs of numbers group in a fraction of
# the time and memory pairs of strings take.
_PAIR_COUNTS = """
    SELECT {site_id:String} AS site_id, {generation:UInt64} AS generation, {counted:Array(String)}[a] AS item_id,
           {counted:Array(String)}[b] AS neighbor_id, toInt64(together) * {sign:Int64} AS baskets
    FROM (
        SELECT a, arrayJoin(after) AS b, count() AS together FROM (
            SELECT codes[i] AS a, arraySlice(codes, i + 1) AS after FROM (
                SELECT codes, arrayJoin(arrayEnumerate(codes)) AS i FROM (
                    SELECT arraySort(arrayFilter(x -> x > 0, arrayMap(
                        x -> transform(x, {counted:Array(String)}, {codes:Array(UInt32)}, toUInt32(0)), basket)))
                        AS codes
                    FROM ($BASKETS)
                )
            )
        )
        GROUP BY a, b
    )
"""

_BY_PART = "cityHash64(visitor_id) % {parts:UInt64} = {part:UInt64}"


def _add(warehouse: Warehouse, counts: str, rows: str, final: bool, params: dict) -> None:
    """Add the counts (``_ITEM_COUNTS`` or ``_PAIR_COUNTS``) of the visitor rows ``rows`` picks."""
    baskets = _BASKETS.replace("$FINAL", "FINAL" if final else "").replace("$ROWS", rows)
    warehouse.execute(
        "INSERT INTO rec_basket_counts (site_id, generation, item_id, neighbor_id, baskets) "
        + counts.replace("$BASKETS", baskets),
        params,
    )


def count_part(warehouse: Warehouse, site_id: str, visits: int, generation: int, part: int, parts: int) -> None:
    """A full count, one part of the visitors: their baskets, and the baskets and products' counts.

    Rows under ``generation`` (also their version); ``visits`` is the folded visits' generation.
    """
    params = {"site_id": site_id, "generation": generation, "visits": visits, "version": generation,
              "part": part, "parts": parts, "every": 0, "sign": 1}  # fmt: skip
    warehouse.execute(
        f"INSERT INTO rec_visitor_baskets ({COLUMNS}) " + _VISITOR_BASKETS.replace("$VISITS", _PART_VISITS), params
    )
    _add(warehouse, _ITEM_COUNTS, _BY_PART, final=False, params=params)


def _numbered(counted: list[str]) -> dict:
    """The parameters naming the counted products, sorted, and their numbers (from 1)."""
    return {"counted": sorted(counted), "codes": list(range(1, len(counted) + 1))}


def count_pairs(warehouse: Warehouse, site_id: str, generation: int, counted: list[str], part: int, parts: int) -> None:
    """A full count, one part of the visitors: the pairs of ``counted`` products their baskets hold."""
    if counted:
        params = {"site_id": site_id, "generation": generation, "part": part, "parts": parts, "sign": 1}
        _add(warehouse, _PAIR_COUNTS, _BY_PART, final=False, params=params | _numbered(counted))


def set_counted_items(warehouse: Warehouse, site_id: str, generation: int, items: list[str]) -> None:
    """Record the products whose pairs ``generation`` counts."""
    frame = pd.DataFrame({"site_id": site_id, "generation": generation, "item_id": pd.Series(items, dtype=str)})
    if len(frame):
        warehouse.insert("rec_basket_items", frame.astype({"generation": "uint64"}))


def counted_items(warehouse: Warehouse, site_id: str, generation: int) -> list[str]:
    """The products whose pairs ``generation`` counts."""
    rows = warehouse.query(
        "SELECT item_id FROM rec_basket_items WHERE site_id = {site_id:String} AND generation = {generation:UInt64}",
        {"site_id": site_id, "generation": generation},
    )
    return [row["item_id"] for row in rows]


def count_changed(
    warehouse: Warehouse, site_id: str, visits: int, generation: int, counted: list[str], since: int, version: int
) -> None:
    """Bring the counts up to date for the visitors whose folded visits changed after version ``since``.

    Their baskets as last counted are taken out (counts added negated), their
    rows replaced by their baskets now (under ``version``; an empty row for a
    visitor left without one), and those counted.
    """
    params = {"site_id": site_id, "generation": generation, "visits": visits, "since": since, "version": version,
              "every": 1}  # fmt: skip
    counts_of = (_ITEM_COUNTS,)
    if counted:
        params, counts_of = params | _numbered(counted), (_ITEM_COUNTS, _PAIR_COUNTS)
    for counts in counts_of:
        _add(warehouse, counts, f"visitor_id IN ({_CHANGED})", final=True, params={**params, "sign": -1})
    warehouse.execute(
        f"INSERT INTO rec_visitor_baskets ({COLUMNS}) " + _VISITOR_BASKETS.replace("$VISITS", _CHANGED_VISITS), params
    )
    for counts in counts_of:
        _add(warehouse, counts, "version = {version:UInt64}", final=False, params={**params, "sign": 1})


def item_counts(warehouse: Warehouse, site_id: str, generation: int) -> tuple[int, pd.DataFrame]:
    """The baskets, and ``item_id, baskets``: the baskets holding each product, most first (ties by id)."""
    frame = warehouse.query_df(
        """
        SELECT item_id, sum(baskets) AS baskets FROM rec_basket_counts
        WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND neighbor_id = ''
        GROUP BY item_id HAVING baskets > 0
        ORDER BY baskets DESC, item_id
        """,
        {"site_id": site_id, "generation": generation},
    )
    frame = _typed(frame, ["item_id"], {"baskets": "int64"})
    total = frame.loc[frame["item_id"] == "", "baskets"]
    return int(total.iloc[0]) if len(total) else 0, frame[frame["item_id"] != ""].reset_index(drop=True)


def pair_counts(warehouse: Warehouse, site_id: str, generation: int, items: list[str], min_count: int) -> pd.DataFrame:
    """``item_id, neighbor_id, baskets``: the pairs of ``items`` (each once) in ``min_count`` baskets or more."""
    frame = warehouse.query_df(
        """
        SELECT item_id, neighbor_id, sum(baskets) AS baskets FROM rec_basket_counts
        WHERE site_id = {site_id:String} AND generation = {generation:UInt64} AND neighbor_id != ''
          AND has({items:Array(String)}, item_id) AND has({items:Array(String)}, neighbor_id)
        GROUP BY item_id, neighbor_id HAVING baskets >= {min_count:Int64}
        ORDER BY item_id, neighbor_id
        """,
        {"site_id": site_id, "generation": generation, "items": items, "min_count": min_count},
    )
    return _typed(frame, ["item_id", "neighbor_id"], {"baskets": "int64"})


def drop_old_generations(warehouse: Warehouse) -> int:
    """Delete every site's basket counts but those of its current generation; returns the sites pruned."""
    return visit_items.drop_old_generations(
        warehouse, job="rules", tables=("rec_basket_counts", "rec_visitor_baskets", "rec_basket_items")
    )
