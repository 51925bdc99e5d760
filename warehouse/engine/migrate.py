"""Forward-only numbered migrations.

Each ``migrations/NNNN_name.sql`` file is applied once, in order, and recorded
in ``schema_migrations`` (by number and name). Files may use two fragments,
chosen by the server's version and the cluster setting, never by input:
``$LC_STRING`` and ``$ON_CLUSTER``. A statement ``BACKFILL view`` stands for
``INSERT INTO <the view's TO table> <the view's SELECT>``, written out from the
view created earlier in the same file, so a new rollup is filled from the
events already stored by the very query that keeps it. With a cluster name set,
``cluster.for_cluster`` lays each ``ON CLUSTER`` table of a MergeTree-family
engine out as replicated local tables under a Distributed table of the
original name.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template
from typing import Callable

import pandas as pd

from .cluster import for_cluster
from .connection import Warehouse

MIGRATIONS = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
_VIEW = re.compile(
    r"^CREATE\s+MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\b.*?\bTO\s+(\w+)\s+AS\s+", re.I | re.S
)
_BACKFILL = re.compile(r"^BACKFILL\s+(\w+)$", re.I)


def available() -> list[tuple[int, str, Path]]:
    found = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), match.group(2), path))
    return found


def fragments(warehouse: Warehouse) -> dict[str, str]:
    cluster = warehouse.cluster
    return {
        "LC_STRING": "LowCardinality(String)" if warehouse.features["low_cardinality"] else "String",
        "ON_CLUSTER": f"ON CLUSTER {cluster}" if cluster else "",
    }


def statements(path: Path, values: dict[str, str]) -> list[str]:
    text = Template(path.read_text()).substitute(values)
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("--"))
    return _backfills([s.strip() for s in text.split(";") if s.strip()], path)


def _backfills(sqls: list[str], path: Path) -> list[str]:
    """``BACKFILL view`` written out as the view's own SELECT into its table."""
    views, out = {}, []
    for sql in sqls:
        backfill = _BACKFILL.match(sql)
        if backfill is None:
            if view := _VIEW.match(sql):
                views[view.group(1)] = f"INSERT INTO {view.group(2)}\n{sql[view.end() :]}"
            out.append(sql)
        elif backfill.group(1) in views:
            out.append(views[backfill.group(1)])
        else:
            raise ValueError(f"{path.name}: BACKFILL {backfill.group(1)} names no view created before it in the file")
    return out


LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations $ON_CLUSTER "
    "(version UInt32, name String, applied_at DateTime('UTC')) ENGINE = MergeTree() ORDER BY version"
)


def laid_out(warehouse: Warehouse, sqls: list[str], tables: set[str]) -> list[str]:
    """Statements as this warehouse runs them: unchanged, or over the cluster."""
    return for_cluster(sqls, warehouse.database, tables) if warehouse.cluster else sqls


def applied(warehouse: Warehouse) -> set[int]:
    # Checked first: on a cluster, DDL waits for every node, and a start with
    # nothing to apply must not depend on all of them being up.
    if not warehouse.scalar("EXISTS TABLE schema_migrations"):
        for sql in laid_out(warehouse, [Template(LEDGER).substitute(fragments(warehouse))], set()):
            warehouse.execute(sql)
    return {row["version"] for row in warehouse.query("SELECT version FROM schema_migrations")}


def plan(warehouse: Warehouse) -> list[tuple[int, str, list[str]]]:
    """Every migration's statements as this warehouse runs them. Applied
    ones are laid out too: later views and ALTERs name their tables."""
    values, tables = fragments(warehouse), set()
    return [
        (version, name, laid_out(warehouse, statements(path, values), tables)) for version, name, path in available()
    ]


def migrate(warehouse: Warehouse, progress: Callable[[str], None] = lambda _: None) -> list[str]:
    """Apply what is pending; safe to run on every start."""
    done = applied(warehouse)
    names = []
    for version, name, sqls in plan(warehouse):
        if version in done:
            continue
        progress(f"applying {version:04d}_{name}")
        for sql in sqls:
            warehouse.execute(sql)
        warehouse.insert(
            "schema_migrations",
            pd.DataFrame(
                {
                    "version": [version],
                    "name": [name],
                    "applied_at": [pd.Timestamp.now("UTC").floor("s").tz_localize(None)],
                }
            ).astype({"version": "uint32", "applied_at": "datetime64[s]"}),
        )
        names.append(f"{version:04d}_{name}")
    return names
