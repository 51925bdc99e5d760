"""Customer records of a site's sources, the matcher's decisions on pairs, and operators' verdicts."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from warehouse.engine.connection import Warehouse

FIELDS = ("first_name", "last_name", "email", "phone", "address", "city", "postcode", "country", "birth_date")
RECORD_COLUMNS = [
    "site_id",
    "source",
    "source_id",
    "verified",
    "raw",
    *FIELDS,
    *("std_" + f for f in FIELDS),
    "problems",
    "imported_at",
    "version",
]
MATCH_COLUMNS = ["a", "b", "tier", "weight", "probability", "agree", "close", "differ", "decision", "why"]


def record_identity(source: str, source_id: str) -> str:
    """The identity of one source's record: ``record:<source>/<id>``."""
    return f"record:{source}/{source_id}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def write_records(warehouse: Warehouse, frame: pd.DataFrame) -> int:
    """Insert records (a newer version of a source id replaces the older one)."""
    if frame.empty:
        return 0
    out = frame.copy()
    out["imported_at"] = pd.Series([_now()] * len(out), dtype="datetime64[s]", index=out.index)
    out["version"] = pd.Series([time.time_ns()] * len(out), dtype="uint64", index=out.index)
    out["verified"] = out["verified"].astype("uint8")
    return warehouse.insert("customer_records", out[RECORD_COLUMNS].reset_index(drop=True))


def stored_keys(warehouse: Warehouse, site_id: str, source: str) -> set[str]:
    rows = warehouse.query(
        "SELECT DISTINCT source_id FROM customer_records WHERE site_id = {site_id:String} AND source = {source:String}",
        {"site_id": site_id, "source": source},
    )
    return {r["source_id"] for r in rows}


_LATEST_FIELDS = ["verified", "raw", *FIELDS, *("std_" + f for f in FIELDS), "problems"]
# The newest version of each record, merged where the rows are (a Distributed table merges the shards'
# groups), with aliases that differ from the columns so old servers do not nest the aggregates.
_LATEST = (
    "SELECT source, source_id, "
    + ", ".join(f"argMax({c}, version) AS last_{c}" for c in _LATEST_FIELDS)
    + ", max(imported_at) AS last_imported_at FROM customer_records WHERE site_id = {site_id:String} {extra} "
    "GROUP BY source, source_id ORDER BY source, source_id"
)


def _latest(warehouse: Warehouse, site_id: str, extra: str = "", params: dict | None = None) -> pd.DataFrame:
    frame = warehouse.query_df(_LATEST.replace("{extra}", extra), {"site_id": site_id, **(params or {})})
    return frame.rename(columns=lambda c: c.removeprefix("last_"))


def records(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """The newest version of every record of the site, with its identity as ``uid``."""
    frame = _latest(warehouse, site_id)
    if frame.empty:
        return pd.DataFrame(columns=["uid", *RECORD_COLUMNS])
    frame["uid"] = [record_identity(s, i) for s, i in zip(frame["source"], frame["source_id"])]
    frame["verified"] = frame["verified"].astype(bool)
    frame["problems"] = [list(p) for p in frame["problems"]]
    return frame


def record_identities(warehouse: Warehouse, site_id: str) -> list[str]:
    """Every record of the site as an identity."""
    rows = warehouse.query(
        "SELECT DISTINCT concat('record:', source, '/', source_id) AS identity FROM customer_records "
        "WHERE site_id = {site_id:String}",
        {"site_id": site_id},
    )
    return [r["identity"] for r in rows]


def records_of(warehouse: Warehouse, site_id: str, uids: list[str]) -> list[dict]:
    """The records behind these identities (``record:source/id``), newest versions."""
    wanted = [u for u in uids if u.startswith("record:")]
    if not wanted:
        return []
    frame = _latest(
        warehouse,
        site_id,
        "AND concat('record:', source, '/', source_id) IN (SELECT arrayJoin({ids:Array(String)}))",
        {"ids": wanted},
    )
    rows = frame.to_dict("records")
    for row in rows:
        row["uid"] = record_identity(row["source"], row["source_id"])
        row["problems"] = list(row["problems"])
    return rows


def sources(warehouse: Warehouse, site_id: str) -> list[dict]:
    """Each source of the site: records, records with an invalid value, last import."""
    return warehouse.query(
        "SELECT source, count() AS records, countIf(length(p) > 0) AS flagged, max(t) AS last_import FROM ("
        "SELECT source, source_id, argMax(problems, version) AS p, max(imported_at) AS t FROM customer_records "
        "WHERE site_id = {site_id:String} GROUP BY source, source_id) GROUP BY source ORDER BY source",
        {"site_id": site_id},
    )


_CURRENT = """
    SELECT a, b, argMax(tier, version) AS t, argMax(weight, version) AS w, argMax(probability, version) AS p,
           argMax(agree, version) AS ag, argMax(close, version) AS cl, argMax(differ, version) AS df,
           argMax(decision, version) AS d, argMax(why, version) AS y
    FROM identity_matches WHERE site_id = {site_id:String} GROUP BY a, b
"""
_NAMES = {"t": "tier", "w": "weight", "p": "probability", "ag": "agree", "cl": "close", "df": "differ"}


def matches(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """The newest decision on each pair the matcher has ever proposed."""
    frame = warehouse.query_df(_CURRENT, {"site_id": site_id})
    if frame.empty:
        return pd.DataFrame(columns=MATCH_COLUMNS)
    return frame.rename(columns={**_NAMES, "d": "decision", "y": "why"})[MATCH_COLUMNS]


def write_matches(
    warehouse: Warehouse, site_id: str, decided: pd.DataFrame, version: int, keep_others: bool = False
) -> int:
    """Record decisions; unless ``keep_others``, pairs decided before and not proposed now become ``none``."""
    before = matches(warehouse, site_id)
    proposed = set(zip(decided["a"], decided["b"]))
    absent = pd.Series([(a, b) not in proposed for a, b in zip(before["a"], before["b"])], index=before.index)
    gone = before[absent & (before["decision"] != "none") & (not keep_others)]
    gone = gone.assign(decision="none", why="no longer proposed")
    frame = pd.concat([decided[MATCH_COLUMNS], gone[MATCH_COLUMNS]], ignore_index=True)
    changed = frame.merge(before, on=["a", "b"], how="left", suffixes=("", "_was"))
    fresh = (changed["decision"] != changed["decision_was"]) | (
        changed["weight"].astype(float).round(3) != changed["weight_was"].astype(float).round(3)
    )
    frame = frame[fresh.to_numpy()].copy()
    if frame.empty:
        return 0
    frame["weight"] = frame["weight"].astype(float).fillna(0.0).replace([float("inf")], 99.0)
    frame["probability"] = frame["probability"].astype(float).fillna(1.0)
    for column in ("agree", "close", "differ"):
        frame[column] = [list(v) for v in frame[column]]
    frame.insert(0, "site_id", site_id)
    frame["version"] = pd.Series([version] * len(frame), dtype="uint64", index=frame.index)
    return warehouse.insert("identity_matches", frame.reset_index(drop=True))


def match_links(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """Linked pairs as identity links (reason ``match``, decided when their version was written)."""
    rows = warehouse.query_df(
        "SELECT a, b, t AS tier, w AS weight, v AS decided FROM ("
        "SELECT a, b, argMax(tier, version) AS t, argMax(weight, version) AS w, "
        "argMax(decision, version) AS d, max(version) AS v "
        "FROM identity_matches WHERE site_id = {site_id:String} GROUP BY a, b) WHERE d = 'link'",
        {"site_id": site_id},
    )
    if rows.empty:
        return pd.DataFrame(columns=["a", "b", "reason", "message_id", "at"])
    evidence = [f"match:{t}" if t != "splink" else f"match:{w:.1f}" for t, w in zip(rows["tier"], rows["weight"])]
    when = pd.to_datetime(rows["decided"].astype("int64"), unit="ns").dt.floor("s")
    return pd.DataFrame({"a": rows["a"], "b": rows["b"], "reason": "match", "message_id": evidence, "at": when})


def matches_of(warehouse: Warehouse, site_id: str, uids: list[str]) -> list[dict]:
    """Current decisions touching these identities (why each record joined)."""
    rows = warehouse.query(
        f"SELECT * FROM ({_CURRENT}) WHERE d != 'none' AND "
        "(a IN (SELECT arrayJoin({ids:Array(String)})) OR b IN (SELECT arrayJoin({ids:Array(String)}))) "
        "ORDER BY w DESC LIMIT 200",
        {"site_id": site_id, "ids": uids},
    )
    return [{_NAMES.get(k, {"d": "decision", "y": "why"}.get(k, k)): v for k, v in r.items()} for r in rows]


def review_queue(warehouse: Warehouse, site_id: str, limit: int = 50) -> list[dict]:
    """Pairs waiting for an operator, strongest first; ``unsure`` ones after the rest."""
    rows = warehouse.query(
        f"""SELECT m.*, v.verdict AS verdict FROM ({_CURRENT}) AS m
        LEFT JOIN (SELECT a, b, argMax(verdict, version) AS verdict FROM match_reviews
                   WHERE site_id = {{site_id:String}} GROUP BY a, b) AS v USING (a, b)
        WHERE m.d = 'review' AND v.verdict IN ('', 'unsure')
        ORDER BY v.verdict = 'unsure', m.w DESC, a, b LIMIT {{limit:UInt32}}""",
        {"site_id": site_id, "limit": limit},
    )
    return [{_NAMES.get(k, {"d": "decision", "y": "why"}.get(k, k)): v for k, v in r.items()} for r in rows]


def add_verdict(warehouse: Warehouse, site_id: str, a: str, b: str, verdict: str, actor: str) -> None:
    frame = pd.DataFrame(
        {
            "site_id": [site_id],
            "a": [min(a, b)],
            "b": [max(a, b)],
            "verdict": [verdict],
            "actor": [actor],
            "at": pd.Series([_now()], dtype="datetime64[s]"),
            "version": pd.Series([time.time_ns()], dtype="uint64"),
        }
    )
    warehouse.insert("match_reviews", frame)


def verdicts(warehouse: Warehouse, site_id: str) -> pd.DataFrame:
    """The latest verdict on each reviewed pair."""
    frame = warehouse.query_df(
        "SELECT a, b, argMax(verdict, version) AS last_verdict FROM match_reviews "
        "WHERE site_id = {site_id:String} GROUP BY a, b",
        {"site_id": site_id},
    )
    if frame.empty:
        return pd.DataFrame(columns=["a", "b", "verdict"])
    return frame.rename(columns={"last_verdict": "verdict"})
