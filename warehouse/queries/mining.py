"""Aggregations the mining jobs run where the events are.

Python only sees what a model keeps: a product's neighbours, a visitor's vote
per product, a sample of baskets. A full run's reads that grow with the events
are cut into parts of the visitors or people, so one query holds one part at a
time, on chDB as on a server or a cluster; the jobs add the parts' results up
(a visitor or person never spans two parts). The run first copies the
interactions in the order of a hash of whom they belong to (``mining_rows``),
so that each part reads its own share of them.

Visits and what the co-occurrence, session-kNN and rule jobs read from them
are in ``visit_items``.

Every statement runs on ClickHouse 18.16 (no window functions, one JOIN per
SELECT, no ``WITH`` subqueries).
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Iterator

import pandas as pd

from warehouse.engine.connection import Warehouse

from . import mining_rows
from .person_map import CHANNEL_ID_COLUMN, RAW_PERSON
from .sessions import VISITOR
from .versions import person_runs

KIND_WEIGHT = "multiIf(kind = 'purchase', 5.0, kind = 'cart', 3.0, 1.0)"


def interactions_sql(scope: str) -> str:
    """One site's views, cart adds and purchased items in the window, of the visitors ``scope`` picks."""
    return f"""
    SELECT {VISITOR} AS visitor_id, anonymous_id, user_id, {CHANNEL_ID_COLUMN}, product_id AS item_id,
           if(event = 'Product Added', 'cart', 'view') AS kind, toUInt32(timestamp) AS time
    FROM events
    WHERE site_id = {{site_id:String}} AND type = 'track'
      AND event IN ('Product Viewed', 'Product Clicked', 'Product Added')
      AND product_id != '' AND is_bot = 0 AND timestamp >= now() - toIntervalDay({{days:UInt32}})
      AND {scope}
    UNION ALL
    SELECT {VISITOR} AS visitor_id, anonymous_id, user_id, {CHANNEL_ID_COLUMN}, arrayJoin(item_ids) AS item_id,
           'purchase' AS kind, toUInt32(timestamp) AS time
    FROM events
    WHERE site_id = {{site_id:String}} AND type = 'track' AND event = 'Order Completed' AND is_bot = 0
      AND timestamp >= now() - toIntervalDay({{days:UInt32}})
      AND {scope}
"""


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


def _keyed_history(rows: str) -> str:
    """Interactions with their person; ``rows`` picks them by ``raw`` (the row's own id) and ``identity``."""
    return f"""
    SELECT {_PERSON} AS person, item_id, kind, time FROM (
        SELECT anonymous_id, user_id, item_id, kind, time, user_id != '' AND channel_id != 2 AS own_user,
               if(own_user, user_id, anonymous_id) AS raw,
               if(own_user, concat(if(channel_id = 1, 'customer:', 'user:'), user_id),
                  concat('anon:', anonymous_id)) AS identity
        FROM ({interactions_sql("1")})
        WHERE {rows}
    ) AS history
    ANY LEFT JOIN ({_LINKED}) AS links USING identity
"""


def _person_votes(history: str, people: str) -> str:
    """Each person's votes from ``history`` (``person, item_id, kind, time``), of the people ``people`` picks."""
    return f"""
    SELECT person_id, t.1 AS item_id, t.2 AS weight, t.3 AS bought, t.4 AS votes FROM (
        SELECT person AS person_id,
               arraySort(x -> (-toInt64(x.4), x.1), groupArray((item_id, weight, bought, last))) AS ranked
        FROM (
            SELECT person, item_id,
                   sum({KIND_WEIGHT} * pow(0.5, greatest({{now:Float64}} - toFloat64(time), 0.) / 86400. / 30.))
                       AS weight,
                   max(kind = 'purchase') AS bought, max(time) AS last
            FROM ({history})
            WHERE {people}
            GROUP BY person, item_id
        )
        GROUP BY person
    )
    ARRAY JOIN arrayMap((x, i) -> (x.1, x.2, x.3, toUInt8(i <= {{max_history:UInt32}})),
                        ranked, arrayEnumerate(ranked)) AS t
    WHERE t.4 = 1 OR t.3 = 1
"""


# A full run's part: the people of a range of buckets, from their copy (``copied``).
_PERSON_VOTES = _person_votes(mining_rows.part_rows("person_id", "person"), "1")


# Every interaction of the window with its visitor, and with its person: what full runs copy.
_BY_COPY = {
    "visitor": f"SELECT visitor_id AS key, item_id, kind, time FROM ({interactions_sql('1')})",
    "person": f"SELECT person AS key, item_id, kind, time FROM ({_keyed_history('1')})",
}


@contextmanager
def copied(warehouse: Warehouse, site_id: str, run: int, by: str, days: int = 180) -> Iterator[int]:
    """The site's interactions in the window, copied under ``run`` with their visitor or person (``by``) for
    the ``with`` block: a full run's parts read their share (``mining_rows.part_rows``), not every event."""
    with mining_rows.copied(warehouse, site_id, run, f"{by}_id", _BY_COPY[by], {"days": days}):
        yield run


# The ids whose person may have changed since the last per-person run: the own
# ids of rows received in (since, upto], and every id and person an identity
# changed since version {last} ever had (identity_history keeps each version).
_RAW_OF_IDENTITY = "replaceRegexpOne(identity, '^[a-z]+:', '')"
_CHANGED_KEYS = f"""
    SELECT {RAW_PERSON} AS key FROM (
        SELECT anonymous_id, user_id, {CHANNEL_ID_COLUMN} FROM events
        WHERE site_id = {{site_id:String}} AND received_at > {{since:DateTime('UTC')}}
          AND received_at <= {{upto:DateTime('UTC')}}
    )
    UNION ALL
    SELECT person_id AS key FROM identity_history
    WHERE site_id = {{site_id:String}} AND person_id != '' AND identity IN (
        SELECT identity FROM identity_history WHERE site_id = {{site_id:String}} AND version > {{last:UInt64}})
    UNION ALL
    SELECT {_RAW_OF_IDENTITY} AS key FROM identity_history
    WHERE site_id = {{site_id:String}} AND version > {{last:UInt64}}
"""
# Those ids, and the current person of each: the people an incremental run recomputes.
CHANGED_PEOPLE = f"""
    SELECT key FROM ({_CHANGED_KEYS})
    UNION ALL
    SELECT person_id AS key FROM ({_LINKED}) WHERE {_RAW_OF_IDENTITY} IN (SELECT key FROM ({_CHANGED_KEYS}))
"""
_CHANGED_VOTES = _person_votes(
    _keyed_history(
        f"raw IN ({CHANGED_PEOPLE}) "
        f"OR identity IN (SELECT identity FROM ({_LINKED}) WHERE person_id IN ({CHANGED_PEOPLE}))"
    ),
    f"person IN ({CHANGED_PEOPLE})",
)


def person_votes(
    warehouse: Warehouse, site_id: str, now: float, run: int, part: int, parts: int, max_history: int = 20
) -> pd.DataFrame:
    """``person_id, item_id, weight, bought, votes`` for one part of the people copied under ``run``.

    A row's person is the stitched one (``person_links``), else its own user
    id (a user id the browser only claimed is not), else its anonymous id.
    ``weight`` sums each interaction's kind weight times a 30-day half-life;
    only a person's ``max_history`` most recently touched products vote; the
    others are kept only when bought (never recommended back).
    """
    frame = warehouse.query_df(
        _PERSON_VOTES,
        {"site_id": site_id, "now": float(now), "run": run, "max_history": max_history}
        | mining_rows.bounds(part, parts),
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
    changed: dict | None = None,
    run: int = 0,
) -> pd.DataFrame:
    """``person_id, item_id, score``: ``recommender.mining.person_items`` for one part of the people.

    A full run reads the part from the people copied under ``run``
    (``copied``). With ``changed`` (``since``, ``upto``: receive times;
    ``last``: the previous per-person version), it reads the events of the
    people ``CHANGED_PEOPLE`` names instead, in one part.

    ``versions`` maps the neighbour models (``rules``, ``cooccurrence``) to
    the version read; each voting product's best ``per_item`` neighbours get
    its weight times their score; what the person bought is never proposed.
    Each joined row also carries the voted product itself as a "bought"
    marker, so one grouping both sums the votes and drops the purchases.
    """
    if not (changed or run):
        raise ValueError("person_recommendations reads a copy of the people (run) or the changed ones")
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
                FROM ($VOTES) AS votes
                ALL LEFT JOIN ({neighbors}) AS neighbors USING item_id
            )
            ARRAY JOIN [(neighbor_id, weight * score, toUInt8(0), toUInt8(votes = 1 AND neighbor_id != '')),
                        (item_id, 0., bought, toUInt8(0))] AS t
        )
        GROUP BY person_id, candidate
        HAVING max(is_bought) = 0 AND max(is_vote) = 1
        ORDER BY person_id, score DESC, item_id
        LIMIT {{per_person:UInt32}} BY person_id
        """.replace("$VOTES", _CHANGED_VOTES if changed else _PERSON_VOTES),
        (changed or {})
        | {
            "site_id": site_id,
            "now": float(now),
            "run": run,
            "days": days,
            "max_history": max_history,
            "rules": int(versions.get("rules", 0)),
            "cooccurrence": int(versions.get("cooccurrence", 0)),
            "per_item": per_item,
            "per_person": per_person,
        }
        | mining_rows.bounds(part, parts),
    )
    return _typed(frame, ["person_id", "item_id"], {"score": "float64"})


def mark_emptied_people(
    warehouse: Warehouse, site_id: str, version: int, last_full: int = 0, changed: dict | None = None
) -> None:
    """An empty row (``item_id = ''``) under ``version`` for each person it leaves without a list.

    ``version`` holds every person a full run recomputed, or after an
    incremental one (``changed``), the ``CHANGED_PEOPLE`` recomputed: the
    marker ends the older list of anyone among them the run left without
    one (stitched into another person, history out of the window). After a
    full run that is everyone with a list in the runs since ``last_full``
    (older lists are already superseded); after an incremental one, every
    changed id without a list now, whether or not it had one: a few rows,
    where looking for their older lists would read the whole model.
    """
    if changed:
        people = f"SELECT DISTINCT key AS person_id FROM ({CHANGED_PEOPLE})"
    else:
        people = """
            SELECT person_id FROM rec_person_items
            WHERE site_id = {site_id:String} AND model_version >= {last_full:UInt64} AND item_id != ''
              AND model_version IN (
                  SELECT model_version FROM rec_models WHERE site_id = {site_id:String} AND model = 'person')
            GROUP BY person_id
        """
    warehouse.execute(
        f"""
        INSERT INTO rec_person_items (site_id, model_version, person_id, item_id, score)
        SELECT {{site_id:String}}, {{version:UInt64}}, person_id, '', 0 FROM ({people})
        WHERE person_id NOT IN (
            SELECT person_id FROM rec_person_items
            WHERE site_id = {{site_id:String}} AND model_version = {{version:UInt64}})
        """,
        {**(changed or {}), "site_id": site_id, "version": version, "last_full": last_full},
    )


def person_model_rows(warehouse: Warehouse, site_id: str, version: int, people_of: int) -> int:
    """Rows the per-person model as of ``version`` holds for the people the run ``people_of`` wrote.

    Each person's newest run counts (``versions.person_model``); one pass
    over their rows, through the set of those people.
    """
    return int(
        warehouse.scalar(
            f"""
            SELECT sum(rows) FROM (
                SELECT person_id, argMax(rows, model_version) AS rows FROM (
                    SELECT person_id, model_version, countIf(item_id != '') AS rows FROM rec_person_items
                    WHERE site_id = {{site_id:String}} AND model_version IN {person_runs("{version:UInt64}")}
                      AND person_id IN (
                          SELECT person_id FROM rec_person_items
                          WHERE site_id = {{site_id:String}} AND model_version = {{people_of:UInt64}})
                    GROUP BY person_id, model_version
                )
                GROUP BY person_id
            )
            """,
            {"site_id": site_id, "version": version, "people_of": people_of},
        )
        or 0
    )


def received_upto(warehouse: Warehouse, site_id: str):
    """The site's latest receive time (naive UTC), or None without events."""
    value = warehouse.scalar(
        "SELECT max(received_at) FROM events WHERE site_id = {site_id:String} HAVING count() > 0", {"site_id": site_id}
    )
    if value is None:
        return None
    if getattr(value, "tzinfo", None) is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _typed(frame: pd.DataFrame, strings: list[str], numbers: dict) -> pd.DataFrame:
    """An empty result still has its columns (chDB returns none for no rows)."""
    if frame.empty:
        columns = {c: pd.Series(dtype="object") for c in strings} | {c: pd.Series(dtype=t) for c, t in numbers.items()}
        return pd.DataFrame(columns)
    return frame
