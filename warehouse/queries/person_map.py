"""Who is behind a row of events: the person the identity map gives its ids.

Segments, scores, audiences and the dashboard all count people, and a person
is what the identity job stitched: the anonymous ids of each device, the user
id they logged in as, an imported channel's customer id. A row's identity is
its user id when it has one (the more specific of the two: on a shared device
the anonymous id may belong to someone else), else its anonymous id. An
identity the map does not know yet (never linked, or newer than the last
identity run) stands for itself, as the raw id.

The map is read as the profile page reads it, current state by
``argMax(person_id, version)``. Joining it to every event would cost a hash
lookup per event, so callers first aggregate per pair of ids (few next to
events), resolve those, then combine the aggregates per person: ``resolve``
wraps such a per-ids query, whose columns must include ``anonymous_id`` and
``user_id`` (and ``channel_id`` when the rows come from events: 1 for an
imported channel's customer id, 2 for a user id a browser only claimed).

A claimed user id (flag ``claimed``: sent from a browser without its userHash,
see ``collector.trust``) is not the row's identity: the row is its browser's,
so a forged order never adds to the customer it names.
"""

from __future__ import annotations

# An imported row's user id is its channel's customer id unless flagged ``web_ids``.
CHANNEL_ID = "multiIf(has(flags, 'claimed'), 2, has(flags, 'imported') AND NOT has(flags, 'web_ids'), 1, 0)"
CHANNEL_ID_COLUMN = f"toUInt8({CHANNEL_ID}) AS channel_id"
RAW_PERSON = "if(user_id != '' AND channel_id != 2, user_id, anonymous_id)"
EVENT_IDENTITY = (
    "multiIf(user_id = '' OR channel_id = 2, concat('anon:', anonymous_id), "
    "channel_id = 1, concat('customer:', user_id), concat('user:', user_id))"
)
# The raw person of an event row read straight from ``events``.
EVENT_RAW_PERSON = "if(user_id != '' AND NOT has(flags, 'claimed'), user_id, anonymous_id)"
WEB_RAW_PERSON = "if(user_id != '', user_id, anonymous_id)"
# Rows that keep no flags (the attribution table): user ids are taken as the web store's.
WEB_IDENTITY = "if(user_id = '', concat('anon:', anonymous_id), concat('user:', user_id))"
CURRENT_PEOPLE = """
    SELECT identity, argMax(person_id, version) AS mapped_person
    FROM identity_map WHERE site_id = {site_id:String} AND identity NOT LIKE 'email:%'
    GROUP BY identity
"""


def resolve(per_ids: str, columns: list[str], identity: str = EVENT_IDENTITY, raw: str = RAW_PERSON) -> str:
    """``per_ids`` with a ``person_id`` column (and ``columns`` carried through).

    One join per SELECT and ``USING``: the form ClickHouse 18.16 accepts.
    """
    carried = ", ".join(columns)
    return f"""
        SELECT if(mapped_person != '', mapped_person, raw_person) AS person_id, {carried}
        FROM (
            SELECT {identity} AS identity, {raw} AS raw_person, {carried} FROM ({per_ids})
        ) AS rows_by_ids
        ANY LEFT JOIN ({CURRENT_PEOPLE}) AS people USING identity
    """


def resolve_web(per_ids: str, columns: list[str]) -> str:
    """``resolve`` for rows without flags (``attribution_events``)."""
    return resolve(per_ids, columns, WEB_IDENTITY, WEB_RAW_PERSON)


# The rollup ``visit_slots`` keeps each row's identity and raw id hashed
# (``identity_key``, ``raw_key``): the dashboard joins and groups on numbers.
PEOPLE_BY_KEY = """
    SELECT cityHash64(identity) AS identity_key, cityHash64(argMax(person_id, version)) AS mapped_key
    FROM identity_map WHERE site_id = {site_id:String} AND identity NOT LIKE 'email:%'
    GROUP BY identity
"""


def resolve_keys(per_ids: str, columns: list[str]) -> str:
    """Rows with ``identity_key`` and ``raw_key`` given a ``person_key``: the hash of their person's id."""
    carried = ", ".join(columns)
    return f"""
        SELECT if(mapped_key != 0, mapped_key, raw_key) AS person_key, {carried}
        FROM (SELECT identity_key, raw_key, {carried} FROM ({per_ids})) AS rows_by_ids
        ANY LEFT JOIN ({PEOPLE_BY_KEY}) AS people USING identity_key
    """
