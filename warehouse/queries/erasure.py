"""Erasure and export of one person (GDPR), across every table.

Which tables hold a person is read from ``system.columns`` rather than listed
here, so a table another part of the product adds later is covered the day it
lands, as long as it names its columns as the events do. Each known column
name has a fixed condition (the allow-list below); table and column names come
from the catalogue and are checked against a strict pattern before use.
Values are always bound.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Callable, Iterator

import pandas as pd

from warehouse.engine.connection import Warehouse

from . import people

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Column -> condition matching a person's rows; identity kinds as bound arrays.
CONDITIONS = {
    "anonymous_id": "has({anons:Array(String)}, anonymous_id)",
    "previous_id": "has({anons:Array(String)}, previous_id)",
    "user_id": "has({users:Array(String)}, user_id)",
    "visitor_id": "has({visitors:Array(String)}, visitor_id)",
    "identity": "has({identities:Array(String)}, identity)",
    "person_id": "has({persons:Array(String)}, person_id)",
}
# Pair tables whose generic column names are only meaningful for them.
PAIR_TABLES = {"identity_links", "identity_overrides"}
PAIR_CONDITION = "(has({identities:Array(String)}, a) OR has({identities:Array(String)}, b))"
KEEP = {"blocked_identities", "schema_migrations", "sites"}


def person_tables(warehouse: Warehouse) -> dict[str, str]:
    """Table -> WHERE condition (beyond site_id) for every table that can hold a person's rows."""
    rows = warehouse.query(
        "SELECT c.table AS tbl, groupArray(c.name) AS cols FROM system.columns AS c "
        "WHERE c.database = currentDatabase() GROUP BY c.table"
    )
    engines = {
        r["name"]: r["engine"]
        for r in warehouse.query("SELECT name, engine FROM system.tables WHERE database = currentDatabase()")
    }
    out = {}
    for row in rows:
        table, columns = row["tbl"], set(row["cols"])
        if table in KEEP or not NAME.match(table) or "site_id" not in columns:
            continue
        if not _holds_rows(table, engines, warehouse.cluster):
            continue
        conditions = [CONDITIONS[c] for c in CONDITIONS if c in columns]
        if table in PAIR_TABLES:
            conditions.append(PAIR_CONDITION)
        if conditions:
            out[table] = " OR ".join(conditions)
    return out


def _holds_rows(table: str, engines: dict[str, str], cluster: str) -> bool:
    """On a cluster a table's rows are reached through its Distributed name
    (reads see every shard; the server turns a mutation of it into one of
    ``name_local`` on the whole cluster), so the ``_local`` tables are skipped."""
    if cluster:
        return engines.get(table) == "Distributed" and engines.get(f"{table}_local", "").endswith("MergeTree")
    return engines.get(table, "").endswith("MergeTree")


def _params(site_id: str, identity_rows: list[dict], person_id: str) -> dict:
    identities = [r["identity"] for r in identity_rows]
    return {
        "site_id": site_id,
        "identities": identities,
        "anons": [i[5:] for i in identities if i.startswith("anon:")],
        "users": [i.partition(":")[2] for i in identities if i.startswith(("user:", "customer:"))],
        "visitors": people.visitor_ids(identity_rows),
        "persons": [person_id],
    }


def export_person(warehouse: Warehouse, site_id: str, person_id: str, hint: str = "") -> Iterator[tuple[str, dict]]:
    """Every row of the person, table by table."""
    params = _params(site_id, people.identities(warehouse, site_id, person_id, hint), person_id)
    for table, condition in sorted(person_tables(warehouse).items()):
        columns = ", ".join(f"`{c}`" for c in _readable_columns(warehouse, table))
        for row in warehouse.query(
            f"SELECT {columns} FROM `{table}` WHERE site_id = {{site_id:String}} AND ({condition})", params
        ):
            yield table, row


def _readable_columns(warehouse: Warehouse, table: str) -> list[str]:
    """The table's columns less aggregate-function states (a rollup's partial sums, not data to hand over)."""
    rows = warehouse.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
        {"t": table},
    )
    return [r["name"] for r in rows if NAME.match(r["name"]) and not r["type"].startswith("AggregateFunction")]


def erase_person(
    warehouse: Warehouse, site_id: str, person_id: str, progress: Callable[[str], None] = lambda _: None, hint: str = ""
) -> dict:
    """Block the person's identities, then delete their rows from every table."""
    who = people.identities(warehouse, site_id, person_id, hint)
    params = _params(site_id, who, person_id)
    block(warehouse, site_id, params["identities"], "erased on request")
    message_ids = _message_ids(warehouse, params)
    total, touched = 0, []
    for table, condition in sorted(person_tables(warehouse).items()):
        where = f"site_id = {{site_id:String}} AND ({condition})"
        count = int(warehouse.scalar(f"SELECT count() FROM `{table}` WHERE {where}", params) or 0)
        if count:
            delete_rows(warehouse, table, where, params)
            progress(f"erase: {table}: {count} rows deleted")
            total, touched = total + count, touched + [table]
    if message_ids:
        delete_rows(
            warehouse,
            "event_ids",
            "site_id = {site_id:String} AND has({ids:Array(String)}, message_id)",
            {"site_id": site_id, "ids": message_ids},
        )
    return {"rows": total, "tables": touched, "blocked": params["identities"]}


def _message_ids(warehouse: Warehouse, params: dict) -> list[str]:
    rows = warehouse.query(
        "SELECT message_id FROM events WHERE site_id = {site_id:String} "
        f"AND ({CONDITIONS['anonymous_id']} OR {CONDITIONS['user_id']})",
        params,
    )
    return [r["message_id"] for r in rows]


def delete_rows(warehouse: Warehouse, table: str, where: str, params: dict, timeout: float = 120.0) -> None:
    """Delete now: a lightweight DELETE where the server has it, else a mutation waited for."""
    if not NAME.match(table):
        raise ValueError(f"bad table name {table!r}")
    if warehouse.features["lightweight_delete"] and not warehouse.cluster:
        warehouse.execute(f"DELETE FROM `{table}` WHERE {where}", params)
    else:
        warehouse.execute(f"ALTER TABLE `{table}` DELETE WHERE {where}", params)
    if warehouse.cluster:
        # The server ran the mutation on every shard's ``_local`` table (see
        # ``cluster.mutation_for_cluster``): done when no matching row is left anywhere.
        pending, pending_params = f"SELECT count() FROM `{table}` WHERE {where}", params
    else:
        pending = (
            "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = {t:String} "
            "AND is_done = 0"
        )
        pending_params = {"t": table}
    deadline = time.monotonic() + timeout
    while int(warehouse.scalar(pending, pending_params) or 0):
        if time.monotonic() > deadline:
            raise TimeoutError(f"deleting from {table} is still running after {timeout:.0f}s")
        time.sleep(0.1)


def block(warehouse: Warehouse, site_id: str, identities: list[str], reason: str) -> None:
    if not identities:
        return
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    frame = pd.DataFrame(
        {
            "site_id": site_id,
            "identity": identities,
            "blocked": pd.Series([1] * len(identities), dtype="uint8"),
            "reason": reason,
            "at": pd.Series([now] * len(identities), dtype="datetime64[s]"),
            "version": pd.Series([time.time_ns()] * len(identities), dtype="uint64"),
        }
    )
    warehouse.insert("blocked_identities", frame)


def blocked_identities(warehouse: Warehouse) -> list[tuple[str, str]]:
    """Every (site, identity) whose events the collector must drop."""
    rows = warehouse.query(
        "SELECT site_id, identity FROM blocked_identities GROUP BY site_id, identity "
        "HAVING argMax(blocked, version) = 1"
    )
    return [(r["site_id"], r["identity"]) for r in rows]
