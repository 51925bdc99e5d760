"""The identity map's reads and writes: links, versions, manual overrides."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import pandas as pd

from warehouse.engine.connection import Warehouse


def email_identity(email: str) -> str:
    """The identity of an email address: hashed, so matching needs no raw address."""
    return "email:" + hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


def person_id_of(anchor: str) -> str:
    """A person's id, derived from its earliest identity (stable while it grows)."""
    return "p_" + hashlib.sha256(anchor.encode("utf-8")).hexdigest()[:16]


_WINDOW = (
    "site_id = {site_id:String} AND is_bot = 0 "
    "AND received_at > {since:DateTime('UTC')} AND received_at <= {upto:DateTime('UTC')}"
)
EMAIL = r"lowerUTF8(replaceRegexpAll(visitParamExtractString(traits, 'email'), '^\\s+|\\s+$', ''))"

# Three kinds of evidence: a message carrying both ids (identify, a logged-in
# event), an alias, and an email address in traits (hashed here). An imported
# row's user id is a customer id of its channel unless flagged ``web_ids``.
# Only the importer flags a row ``imported``; what a sender puts in its context
# (``library.name``, say) decides nothing. What a browser only claims (flags
# ``claimed``: a user id without its userHash; ``claimed_traits``: traits sent
# from a browser) gives ``claimed_…`` links, kept but never stitched
# (``CLAIMED``); a claimed row's email is its browser's claim.
KNOWN_ID = (
    "if(has(flags, 'imported') AND NOT has(flags, 'web_ids'), concat('customer:', user_id), concat('user:', user_id))"
)
CLAIMED = "claimed_"
_CLAIMED_IDS = "if(has(flags, 'claimed'), 'claimed_', '')"
_LINKS = f"""
    SELECT site_id, a, b, reason, argMin(message_id, timestamp) AS first_message, min(timestamp) AS first_at FROM (
        SELECT site_id, concat('anon:', anonymous_id) AS a, {KNOWN_ID} AS b,
               concat({_CLAIMED_IDS}, multiIf(type = 'identify', 'identify', type = 'alias', 'alias',
                                              has(flags, 'imported'), 'import', 'login')) AS reason,
               message_id, timestamp
        FROM events WHERE {_WINDOW} AND anonymous_id != '' AND user_id != ''
        UNION ALL
        SELECT site_id, concat('anon:', previous_id) AS a, concat('user:', user_id) AS b,
               concat({_CLAIMED_IDS}, 'alias') AS reason, message_id, timestamp
        FROM events WHERE {_WINDOW} AND type = 'alias' AND previous_id != '' AND user_id != ''
        UNION ALL
        SELECT site_id, if(user_id != '' AND NOT has(flags, 'claimed'), {KNOWN_ID}, concat('anon:', anonymous_id)) AS a,
               concat('email:', lower(hex(SHA256(email)))) AS b,
               multiIf(has(flags, 'imported'), 'import',
                       has(flags, 'claimed') OR has(flags, 'claimed_traits'), 'claimed_email', 'email') AS reason,
               message_id, timestamp
        FROM (SELECT site_id, user_id, anonymous_id, flags, message_id, timestamp, {EMAIL} AS email
              FROM events WHERE {_WINDOW} AND traits != '{{}}')
        WHERE email != ''
    )
    GROUP BY site_id, a, b, reason
"""


def extract_links(warehouse: Warehouse, site_id: str, since: dt.datetime, upto: dt.datetime) -> None:
    """Add the links shown by events received in (since, upto]."""
    warehouse.execute(
        f"INSERT INTO identity_links (site_id, a, b, reason, message_id, at) {_LINKS}",
        {"site_id": site_id, "since": since, "upto": upto},
    )


def links(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """Every link of the site, each pair and reason once, with its earliest evidence."""
    return _naive(
        warehouse.query_df(
            "SELECT a, b, reason, argMin(message_id, at) AS first_message, min(at) AS first_at FROM identity_links "
            "WHERE site_id = {site_id:String} GROUP BY a, b, reason",
            {"site_id": site_id},
        ).rename(columns={"first_message": "message_id", "first_at": "at"}),
        ["a", "b", "reason", "message_id", "at"],
    )


def claims(warehouse: Warehouse, site_id: str, identities: list[str]) -> list[dict]:
    """Claimed links touching these identities: what browsers said without proof, earliest first."""
    return warehouse.query(
        "SELECT a, b, reason, min(at) AS since FROM identity_links "
        "WHERE site_id = {site_id:String} AND reason LIKE 'claimed%' "
        "AND (a IN (SELECT arrayJoin({ids:Array(String)})) OR b IN (SELECT arrayJoin({ids:Array(String)}))) "
        "GROUP BY a, b, reason ORDER BY since, a, b LIMIT 100",
        {"site_id": site_id, "ids": identities},
    )


def overrides(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """The operator's latest decision on each pair: ``merge`` or ``unmerge``."""
    return _naive(
        warehouse.query_df(
            "SELECT a, b, argMax(action, version) AS last_action, max(version) AS last_version, max(at) AS last_at "
            "FROM identity_overrides WHERE site_id = {site_id:String} GROUP BY a, b",
            {"site_id": site_id},
        ).rename(columns={"last_action": "action", "last_version": "version", "last_at": "at"}),
        ["a", "b", "action", "version", "at"],
    )


def add_override(warehouse: Warehouse, site_id: str, pairs: list[tuple[str, str]], action: str, actor: str, note: str):
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    version = time.time_ns()
    frame = pd.DataFrame(
        {
            "site_id": site_id,
            "a": [a for a, _ in pairs],
            "b": [b for _, b in pairs],
            "action": action,
            "actor": actor,
            "note": note,
            "at": pd.Series([now] * len(pairs), dtype="datetime64[s]"),
            "version": pd.Series([version + i for i in range(len(pairs))], dtype="uint64"),
        }
    )
    warehouse.insert("identity_overrides", frame)


def audit_trail(warehouse: Warehouse, site_id: str, identities: list[str]) -> list[dict]:
    return warehouse.query(
        "SELECT a, b, action, actor, note, at FROM identity_overrides WHERE site_id = {site_id:String} "
        "AND (a IN (SELECT arrayJoin({ids:Array(String)})) OR b IN (SELECT arrayJoin({ids:Array(String)}))) "
        "ORDER BY at, version",
        {"site_id": site_id, "ids": identities},
    )


_MAP = """
    SELECT identity, argMax(p, v) AS person_id, argMax(w, v) AS via,
           argMax(r, v) AS reason, argMax(m, v) AS message_id,
           argMax(l, v) AS linked_at, max(v) AS version
    FROM (SELECT identity, person_id AS p, via AS w, reason AS r, message_id AS m, linked_at AS l, version AS v
          FROM {table} WHERE site_id = {{site_id:String}} AND version <= {{as_of:UInt64}})
    GROUP BY identity
"""
# The newest map from identity_map; an earlier one from identity_history, which keeps every version
# (identity_map keeps an identity's newest row only, once its parts are merged).
_CURRENT = _MAP.format(table="identity_map")
_PAST = _MAP.format(table="identity_history")
LATEST = 2**64 - 1


def current_map(warehouse: Warehouse, site_id: str, as_of: int = LATEST) -> pd.DataFrame:
    """The identity map as it stands (or stood at version ``as_of``)."""
    return _naive(
        warehouse.query_df(_CURRENT if as_of == LATEST else _PAST, {"site_id": site_id, "as_of": as_of}),
        ["identity", "person_id", "via", "reason", "message_id", "linked_at", "version"],
    )


def write_map(warehouse: Warehouse, site_id: str, changed: pd.DataFrame, version: int) -> int:
    if changed.empty:
        return 0
    frame = changed[["identity", "person_id", "via", "reason", "message_id", "linked_at"]].copy()
    frame.insert(0, "site_id", site_id)
    frame["linked_at"] = pd.to_datetime(frame["linked_at"]).fillna(pd.Timestamp(0)).astype("datetime64[s]")
    frame["version"] = pd.Series([version] * len(frame), dtype="uint64", index=frame.index)
    return warehouse.insert("identity_map", frame.reset_index(drop=True))


def person_identities(warehouse: Warehouse, site_id: str, person_id: str) -> list[dict]:
    """The identities of one person with the link that joined each.

    Candidates come from the by-person copy (a primary-key lookup); the
    current map then keeps those still assigned to this person.
    """
    rows = warehouse.query(
        """
        SELECT identity, argMax(person_id, version) AS person, argMax(via, version) AS via_identity,
               argMax(reason, version) AS why, argMax(message_id, version) AS evidence,
               argMax(linked_at, version) AS since
        FROM identity_map
        WHERE site_id = {site_id:String} AND identity IN (
            SELECT identity FROM identity_by_person WHERE site_id = {site_id:String} AND person_id = {person_id:String})
        GROUP BY identity
        HAVING person = {person_id:String}
        ORDER BY since, identity
        """,
        {"site_id": site_id, "person_id": person_id},
    )
    names = {
        "person": "person_id",
        "via_identity": "via",
        "why": "reason",
        "evidence": "message_id",
        "since": "linked_at",
    }
    return [{names.get(k, k): v for k, v in row.items()} for row in rows]


def person_of(warehouse: Warehouse, site_id: str, identity: str) -> str | None:
    """The person an identity belongs to now, or None when it was never stitched."""
    rows = warehouse.query(
        "SELECT argMax(person_id, version) AS person FROM identity_map "
        "WHERE site_id = {site_id:String} AND identity = {identity:String} GROUP BY identity",
        {"site_id": site_id, "identity": identity},
    )
    return rows[0]["person"] if rows else None


def _naive(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Datetimes as naive UTC whatever the backend returned; columns even when empty."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame
