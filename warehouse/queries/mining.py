"""Aggregations the mining jobs run where the events are.

Python only sees what a model keeps: a product's neighbours, a visitor's vote
per product, a sample of baskets. Every read that grows with the events is cut
into parts by a hash of the visitor (``cityHash64(visitor) % parts``), so one
query holds one part's visitors at a time, on chDB as on a server or a
cluster; the jobs add the parts' results up (visitors never span two parts).

Visits are the product's own (``sessions``, cut by ``SESSION_TIMEOUT_MINUTES``):
an event belongs to its visitor's latest visit started at or before it. Each
visit's products are folded once into ``rec_session_items``, which the
co-occurrence, session-kNN and basket-rule jobs read instead of the events.

Every statement runs on ClickHouse 18.16 (no window functions, one JOIN per
SELECT, no ``WITH`` subqueries).
"""

from __future__ import annotations

import pandas as pd

from warehouse.engine.connection import Warehouse

from .person_map import CHANNEL_ID_COLUMN
from .sessions import VISITOR

KIND_WEIGHT = "multiIf(kind = 'purchase', 5.0, kind = 'cart', 3.0, 1.0)"

_PART = "cityHash64({visitor}) % {{parts:UInt64}} = {{part:UInt64}}"

# One site's views, cart adds and purchased items in the window, of one part of its visitors.
_INTERACTIONS = f"""
    SELECT {VISITOR} AS visitor_id, anonymous_id, user_id, {CHANNEL_ID_COLUMN}, product_id AS item_id,
           if(event = 'Product Added', 'cart', 'view') AS kind, toUInt32(timestamp) AS time
    FROM events
    WHERE site_id = {{site_id:String}} AND type = 'track'
      AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
      AND product_id != '' AND is_bot = 0 AND timestamp >= now() - toIntervalDay({{days:UInt32}})
      AND {_PART.format(visitor=VISITOR)}
    UNION ALL
    SELECT {VISITOR} AS visitor_id, anonymous_id, user_id, {CHANNEL_ID_COLUMN}, arrayJoin(item_ids) AS item_id,
           'purchase' AS kind, toUInt32(timestamp) AS time
    FROM events
    WHERE site_id = {{site_id:String}} AND type = 'track' AND event = 'Order Completed' AND is_bot = 0
      AND timestamp >= now() - toIntervalDay({{days:UInt32}})
      AND {_PART.format(visitor=VISITOR)}
"""

# Each interaction with its visit: "<visitor>#<n>", n the count of the visitor's
# visits started at or before it (0 for an event the sessions job has not seen yet).
_SESSION_EVENTS = f"""
    SELECT concat(visitor_id, '#', toString(visit)) AS session_id, item_id, kind, time,
           arrayCount((s, t) -> s <= t, starts, arrayResize([time], length(starts), time)) AS visit
    FROM ({_INTERACTIONS}) AS interactions
    ANY LEFT JOIN (
        SELECT visitor_id, groupArray(toUInt32(started_at)) AS starts
        FROM sessions FINAL
        WHERE site_id = {{site_id:String}} AND deleted = 0 AND {_PART.format(visitor="visitor_id")}
        GROUP BY visitor_id
    ) AS visits USING visitor_id
"""


def fold_session_items(
    warehouse: Warehouse, site_id: str, version: int, part: int, parts: int, days: int = 180, max_items: int = 50
) -> None:
    """Write one part's visits into ``rec_session_items`` under ``version``.

    ``items`` is the visit's last ``max_items`` views and cart adds in time
    order (repeats kept: session-kNN weighs positions); ``views`` the distinct
    viewed or carted products by last occurrence, the last ``max_items``;
    ``purchases`` the distinct bought products by last purchase; ``carts`` the
    distinct carted products. Visits with nothing viewed or bought are skipped.
    """
    warehouse.execute(
        f"""
        INSERT INTO rec_session_items (site_id, version, session_id, last_seen, items, views, purchases, carts)
        SELECT {{site_id:String}} AS site_id, {{version:UInt64}} AS version, session_id,
               toDateTime(last, 'UTC') AS last_seen,
               arraySlice(sequence, greatest(toInt64(length(sequence)) - {{max_items:UInt32}} + 1, 1)) AS items,
               arraySlice(distinct_seen, greatest(toInt64(length(distinct_seen)) - {{max_items:UInt32}} + 1, 1))
                   AS views,
               arrayReverse(arrayFilter((x, k) -> k = 1, arrayReverse(bought),
                                        arrayEnumerateUniq(arrayReverse(bought)))) AS purchases,
               carted AS carts
        FROM (
            SELECT session_id, last, sequence, bought, carted,
                   arrayReverse(arrayFilter((x, k) -> k = 1, arrayReverse(sequence),
                                            arrayEnumerateUniq(arrayReverse(sequence)))) AS distinct_seen
            FROM (
                SELECT session_id, max(time) AS last,
                       arrayMap(x -> x.2, arraySort(groupArrayIf((time, item_id), kind != 'purchase'))) AS sequence,
                       arrayMap(x -> x.2, arraySort(groupArrayIf((time, item_id), kind = 'purchase'))) AS bought,
                       arraySort(groupUniqArrayIf(item_id, kind = 'cart')) AS carted
                FROM ({_SESSION_EVENTS})
                GROUP BY session_id
            )
        )
        """,
        {"site_id": site_id, "version": version, "part": part, "parts": parts, "days": days, "max_items": max_items},
    )


def folded_version(warehouse: Warehouse, site_id: str) -> int | None:
    """The newest complete version of the site's folded visits (its mark in ``job_marks``), or None."""
    value = warehouse.scalar(
        "SELECT max(version) FROM job_marks WHERE site_id = {site_id:String} AND job = 'session_items'",
        {"site_id": site_id},
    )
    return int(value) if value else None


def mark_folded(warehouse: Warehouse, site_id: str, version: int) -> None:
    frame = pd.DataFrame({"site_id": [site_id], "job": "session_items", "version": [version]})
    frame["high_water"] = pd.Timestamp.now("UTC").floor("s").tz_localize(None)
    frame["high_water"] = frame["high_water"].astype("datetime64[s]")
    warehouse.insert("job_marks", frame.astype({"version": "uint64"}))


def drop_session_items(warehouse: Warehouse, site_id: str, keep_from: int) -> None:
    """Remove a site's folded visits older than version ``keep_from``."""
    warehouse.execute(
        "ALTER TABLE rec_session_items DELETE WHERE site_id = {site_id:String} AND version < {keep:UInt64}",
        {"site_id": site_id, "keep": keep_from},
    )


def site_event_count(warehouse: Warehouse, site_id: str, days: int = 180) -> int:
    """Events of a site in the mining window: how many parts a job cuts it into."""
    return int(
        warehouse.scalar(
            "SELECT count() FROM events WHERE site_id = {site_id:String} "
            "AND timestamp >= now() - toIntervalDay({days:UInt32})",
            {"site_id": site_id, "days": days},
        )
        or 0
    )


_SESSION_WEIGHTS = """
    SELECT pow(0.5, greatest({now:Float64} - toFloat64(toUInt32(last_seen)), 0.) / 86400. / {half_life:Float64}) AS w,
           views, arraySlice(purchases, greatest(toInt64(length(purchases)) - {max_items:UInt32} + 1, 1)) AS bought
    FROM rec_session_items WHERE site_id = {site_id:String} AND version = {version:UInt64}
"""

_ITEM_WEIGHTS = f"""
    SELECT item_id, sum(view_w) AS viewed, sum(buy_w) AS bought_w FROM (
        SELECT arrayJoin(arrayConcat(arrayMap(x -> (x, 1), views), arrayMap(x -> (x, 0), bought))) AS t,
               t.1 AS item_id, if(t.2 = 1, w, 0.) AS view_w, if(t.2 = 0, w, 0.) AS buy_w
        FROM ({_SESSION_WEIGHTS})
    )
    GROUP BY item_id
"""


def cooccurrence_neighbors(
    warehouse: Warehouse,
    site_id: str,
    version: int,
    now: float,
    part: int,
    parts: int,
    half_life_days: float = 30.0,
    per_item: int = 50,
    max_items: int = 50,
) -> pd.DataFrame:
    """``relation, item_id, neighbor_id, score`` for the items of one part (by hash of the item).

    The same model as ``recommender.cooccurrence.cooccurrence``: each visit
    weighs ``0.5 ** (age / half-life)``; a pair's weight is the sum over the
    visits holding both, divided by the square root of the two items' own
    weights; ``also_viewed`` pairs views with views, ``bought_after_view``
    views with purchases; the best ``per_item`` per item and relation.
    """
    pairs = f"""
        SELECT relation, item_id, neighbor_id, sum(w) AS weight FROM (
            SELECT w, rel.1 AS relation, item_id, arrayJoin(rel.2) AS neighbor_id FROM (
                SELECT w, arrayJoin(views) AS item_id,
                       arrayJoin([('also_viewed', views), ('bought_after_view', bought)]) AS rel
                FROM ({_SESSION_WEIGHTS})
                WHERE cityHash64(item_id) % {{parts:UInt64}} = {{part:UInt64}}
            )
        )
        WHERE item_id != neighbor_id
        GROUP BY relation, item_id, neighbor_id
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
        {
            "site_id": site_id,
            "version": version,
            "now": float(now),
            "half_life": float(half_life_days),
            "max_items": max_items,
            "part": part,
            "parts": parts,
            "per_item": per_item,
        },
    )
    return _typed(frame, ["relation", "item_id", "neighbor_id"], {"score": "float64"})


def indexed_sessions(warehouse: Warehouse, site_id: str, version: int, per_site: int = 50_000) -> pd.DataFrame:
    """``session_id, item_ids, last_seen``: the latest visits with two or more distinct viewed products."""
    frame = warehouse.query_df(
        """
        SELECT session_id, items AS item_ids, last_seen FROM rec_session_items
        WHERE site_id = {site_id:String} AND version = {version:UInt64} AND length(views) >= 2
        ORDER BY last_seen DESC, session_id DESC LIMIT {per_site:UInt32}
        """,
        {"site_id": site_id, "version": version, "per_site": per_site},
    )
    return _typed(frame, ["session_id", "item_ids"], {"last_seen": "datetime64[s]"})


_BASKETS = """
    SELECT concat(kind, ':', session_id) AS basket_id, basket, last_seen FROM rec_session_items
    ARRAY JOIN ['cart', 'purchase'] AS kind, [carts, purchases] AS basket
    WHERE site_id = {site_id:String} AND version = {version:UInt64} AND length(basket) > 0
"""


def basket_item_counts(warehouse: Warehouse, site_id: str, version: int) -> tuple[int, pd.DataFrame]:
    """The site's basket count and ``item_id, baskets``: in how many baskets each product is."""
    count = int(warehouse.scalar(f"SELECT count() FROM ({_BASKETS})", {"site_id": site_id, "version": version}) or 0)
    frame = warehouse.query_df(
        f"""
        SELECT item_id, count() AS baskets FROM ({_BASKETS}) ARRAY JOIN basket AS item_id
        GROUP BY item_id ORDER BY baskets DESC, item_id
        """,
        {"site_id": site_id, "version": version},
    )
    return count, _typed(frame, ["item_id"], {"baskets": "int64"})


def frequent_baskets(
    warehouse: Warehouse, site_id: str, version: int, items: list[str], max_baskets: int
) -> pd.DataFrame:
    """``basket_id, item_id``: the latest ``max_baskets`` baskets holding two or more of ``items``."""
    frame = warehouse.query_df(
        f"""
        SELECT basket_id, item_id FROM (
            SELECT basket_id, arrayFilter(x -> has({{items:Array(String)}}, x), basket) AS frequent, last_seen
            FROM ({_BASKETS})
            WHERE length(frequent) >= 2
            ORDER BY last_seen DESC, basket_id LIMIT {{max_baskets:UInt32}}
        ) ARRAY JOIN frequent AS item_id
        """,
        {"site_id": site_id, "version": version, "items": items, "max_baskets": max_baskets},
    )
    return _typed(frame, ["basket_id", "item_id"], {})


def popularity_votes(
    warehouse: Warehouse, site_id: str, now: float, recent_cut: float, part: int, parts: int, days: int = 180
) -> pd.DataFrame:
    """Per product, one part of the visitors' votes (see ``recommender.mining.popularity_votes``).

    ``overall``: the sum of each visitor's largest decayed weight (30-day
    half-life); ``recent``/``older``: of their largest weight at or after,
    and before, ``recent_cut``, with the visitors counted; ``older_start``:
    the earliest older interaction.
    """
    frame = warehouse.query_df(
        f"""
        SELECT item_id, sum(d) AS overall, count() AS visitors,
               sum(r) AS recent, countIf(r > 0) AS recent_visitors, sum(o) AS older,
               min(if(o > 0, first_older, 4294967295)) AS older_start
        FROM (
            SELECT item_id, visitor_id,
                   max({KIND_WEIGHT} * pow(0.5, greatest({{now:Float64}} - toFloat64(time), 0.) / 86400. / 30.)) AS d,
                   maxIf({KIND_WEIGHT}, time >= {{cut:Float64}}) AS r,
                   maxIf({KIND_WEIGHT}, time < {{cut:Float64}}) AS o,
                   minIf(time, time < {{cut:Float64}}) AS first_older
            FROM ({_INTERACTIONS})
            GROUP BY item_id, visitor_id
        )
        GROUP BY item_id
        """,
        {"site_id": site_id, "now": float(now), "cut": float(recent_cut), "part": part, "parts": parts, "days": days},
    )
    numbers = dict.fromkeys(["overall", "recent", "older"], "float64")
    numbers |= dict.fromkeys(["visitors", "recent_visitors"], "int64") | {"older_start": "float64"}
    return _typed(frame, ["item_id"], numbers)


# The identities of the site's people with two or more (as ``recommendations.person_links`` reads them):
# any other id stands for itself.
_LINKED = """
    SELECT identity, person_id FROM (
        SELECT person_id, groupArray(identity) AS identities FROM (
            SELECT identity, argMax(person_id, version) AS person_id
            FROM identity_map WHERE site_id = {site_id:String} AND identity NOT LIKE 'email:%'
            GROUP BY identity
        ) AS current
        WHERE person_id != ''
        GROUP BY person_id HAVING count() > 1
    ) AS linked
    ARRAY JOIN identities AS identity
"""


_PERSON = "if(person_id != '', person_id, if(own_user, user_id, anonymous_id))"
# A part's rows: those whose own id falls in it, and every linked identity's
# (few), whose person is known only after the join.
_KEYED_HISTORY = f"""
    SELECT {_PERSON} AS person, item_id, kind, time FROM (
        SELECT anonymous_id, user_id, item_id, kind, time, user_id != '' AND channel_id != 2 AS own_user,
               if(own_user, concat(if(channel_id = 1, 'customer:', 'user:'), user_id),
                  concat('anon:', anonymous_id)) AS identity
        FROM ({_INTERACTIONS.replace("{parts:UInt64}", "1").replace("{part:UInt64}", "0")})
        WHERE cityHash64(if(own_user, user_id, anonymous_id)) % {{parts:UInt64}} = {{part:UInt64}}
           OR identity IN (SELECT identity FROM ({_LINKED}))
    ) AS history
    ANY LEFT JOIN ({_LINKED}) AS links USING identity
"""
_PERSON_VOTES = f"""
    SELECT person_id, t.1 AS item_id, t.2 AS weight, t.3 AS bought, t.4 AS votes FROM (
        SELECT person AS person_id,
               arraySort(x -> (-toInt64(x.4), x.1), groupArray((item_id, weight, bought, last))) AS ranked
        FROM (
            SELECT person, item_id,
                   sum({KIND_WEIGHT} * pow(0.5, greatest({{now:Float64}} - toFloat64(time), 0.) / 86400. / 30.))
                       AS weight,
                   max(kind = 'purchase') AS bought, max(time) AS last
            FROM ({_KEYED_HISTORY})
            WHERE cityHash64(person) % {{parts:UInt64}} = {{part:UInt64}}
            GROUP BY person, item_id
        )
        GROUP BY person
    )
    ARRAY JOIN arrayMap((x, i) -> (x.1, x.2, x.3, toUInt8(i <= {{max_history:UInt32}})),
                        ranked, arrayEnumerate(ranked)) AS t
    WHERE t.4 = 1 OR t.3 = 1
"""


def person_votes(
    warehouse: Warehouse, site_id: str, now: float, part: int, parts: int, max_history: int = 20, days: int = 180
) -> pd.DataFrame:
    """``person_id, item_id, weight, bought, votes`` for one part of the people (by hash of the person).

    A row's person is the stitched one (``person_links``), else its own user
    id (a user id the browser only claimed is not), else its anonymous id.
    ``weight`` sums each interaction's kind weight times a 30-day half-life;
    only a person's ``max_history`` most recently touched products vote; the
    others are kept only when bought (never recommended back).
    """
    frame = warehouse.query_df(
        _PERSON_VOTES,
        {"site_id": site_id, "now": float(now), "part": part, "parts": parts, "days": days, "max_history": max_history},
    )
    return _typed(frame, ["person_id", "item_id"], {"weight": "float64", "bought": "uint8", "votes": "uint8"})


def person_recommendations(
    warehouse: Warehouse,
    site_id: str,
    now: float,
    part: int,
    parts: int,
    versions: dict[str, int],
    per_person: int = 20,
    per_item: int = 20,
    max_history: int = 20,
    days: int = 180,
) -> pd.DataFrame:
    """``person_id, item_id, score``: ``recommender.mining.person_items`` for one part of the people.

    ``versions`` maps the neighbour models (``rules``, ``cooccurrence``) to
    the version read; each voting product's best ``per_item`` neighbours get
    its weight times their score; what the person bought is never proposed.
    Each joined row also carries the voted product itself as a "bought"
    marker, so one grouping both sums the votes and drops the purchases.
    """
    neighbors = """
        SELECT item_id, neighbor_id, score FROM rec_item_neighbors
        WHERE site_id = {site_id:String}
          AND ((relation = 'bought_together' AND model_version = {rules:UInt64})
               OR (relation IN ('also_viewed', 'bought_after_view') AND model_version = {cooccurrence:UInt64}))
        ORDER BY item_id, score DESC
        LIMIT {per_item:UInt32} BY item_id
    """
    frame = warehouse.query_df(
        f"""
        SELECT person_id, candidate AS item_id, sum(contribution) AS score FROM (
            SELECT person_id, t.1 AS candidate, t.2 AS contribution, t.3 AS is_bought, t.4 AS is_vote
            FROM (
                SELECT person_id, item_id, weight, bought, votes, neighbor_id, score
                FROM ({_PERSON_VOTES}) AS votes
                ALL LEFT JOIN ({neighbors}) AS neighbors USING item_id
            )
            ARRAY JOIN [(neighbor_id, weight * score, toUInt8(0), toUInt8(votes = 1 AND neighbor_id != '')),
                        (item_id, 0., bought, toUInt8(0))] AS t
        )
        GROUP BY person_id, candidate
        HAVING max(is_bought) = 0 AND max(is_vote) = 1
        ORDER BY person_id, score DESC, item_id
        LIMIT {{per_person:UInt32}} BY person_id
        """,
        {
            "site_id": site_id,
            "now": float(now),
            "part": part,
            "parts": parts,
            "days": days,
            "max_history": max_history,
            "rules": int(versions.get("rules", 0)),
            "cooccurrence": int(versions.get("cooccurrence", 0)),
            "per_item": per_item,
            "per_person": per_person,
        },
    )
    return _typed(frame, ["person_id", "item_id"], {"score": "float64"})


def _typed(frame: pd.DataFrame, strings: list[str], numbers: dict) -> pd.DataFrame:
    """An empty result still has its columns (chDB returns none for no rows)."""
    if frame.empty:
        columns = {c: pd.Series(dtype="object") for c in strings} | {c: pd.Series(dtype=t) for c, t in numbers.items()}
        return pd.DataFrame(columns)
    return frame
