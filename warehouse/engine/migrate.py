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

A statement ``REWRITE table AS new [FROM view]`` replaces a table whose
definition cannot be altered in place (its sort key, its partitions; and no
ALTER at all on an old server's cluster tables): ``new``, created just before
it with the definition wanted, is filled with the table's rows (or with
``view``'s SELECT, for a rollup recomputed from its source), checked to hold
as many rows, and takes the table's name; the old table is dropped. The
materialized views that read or write the table are dropped first and created
again afterwards from their latest definitions, since a view follows a renamed
table on some servers and not on others. Each step checks where the last run
stopped, so a migration interrupted anywhere can run again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Callable

import pandas as pd

from .cluster import LOCAL_SUFFIX, for_cluster
from .connection import Warehouse

MIGRATIONS = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^(\d{4})_(\w+)\.sql$")
_VIEW = re.compile(
    r"^CREATE\s+MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)\b.*?\bTO\s+(\w+)\s+AS\s+", re.I | re.S
)
_BACKFILL = re.compile(r"^BACKFILL\s+(\w+)$", re.I)
_REWRITE = re.compile(r"^REWRITE\s+(\w+)\s+AS\s+(\w+)(?:\s+FROM\s+(\w+))?$", re.I)
_DROP = re.compile(r"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(\w+)\b", re.I)
RETIRED_SUFFIX = "_retired"


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


@dataclass
class Rewrite:
    """``REWRITE table AS new [FROM view]``, with the views known at that point of the plan."""

    table: str
    new: str
    fill_select: str  # SELECT giving the new table's rows
    views: dict[str, str]  # name -> CREATE statement as this warehouse runs it, for views touching the table
    creates: list[str]  # the statements creating ``new``, as this warehouse runs them

    def __str__(self) -> str:
        return f"REWRITE {self.table} AS {self.new}"

    def _swapped(self, warehouse: Warehouse) -> bool:
        """Over a cluster, whether the table already holds the new rows: its replicas keep the
        ZooKeeper path ``new`` was created with (which a new ``new`` could not reuse)."""
        if not warehouse.cluster:
            return False
        engine = warehouse.scalar(
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
            {"t": self.table + LOCAL_SUFFIX},
        )
        return f"/{self.new}{LOCAL_SUFFIX}'" in str(engine or "")

    def run(self, warehouse: Warehouse, progress: Callable[[str], None] = lambda _: None) -> None:
        cluster = warehouse.cluster
        on = f" ON CLUSTER {cluster}" if cluster else ""
        rows_of = self._rows_of(warehouse)
        retired = self.table + RETIRED_SUFFIX
        if not warehouse.scalar(f"EXISTS TABLE {rows_of(retired)}") and not self._swapped(warehouse):
            for create in self.creates:
                warehouse.execute(create)
            self._fill(warehouse, progress)
            self._drop_views(warehouse)  # only now: until the rename, what is inserted still reaches them
            swap = f"{rows_of(self.table)} TO {rows_of(retired)}, {rows_of(self.new)} TO {rows_of(self.table)}"
            warehouse.execute(f"RENAME TABLE {swap}{on}")
        self._drop_views(warehouse)  # a run resumed after the rename: none may still follow the old table
        if cluster:
            # The Distributed table of the old name reads the renamed rows; it
            # is made again with the new table's sharding.
            warehouse.execute(f"DROP TABLE IF EXISTS {self.table}{on}")
            distributed = next(c for c in self.creates if "Distributed(" in c)
            renamed = distributed.replace(self.new + LOCAL_SUFFIX, self.table + LOCAL_SUFFIX)
            warehouse.execute(re.sub(rf"\b{self.new}\b", self.table, renamed))
        # A new table left by a run interrupted after its rename is empty.
        for name in (self.new, retired):
            warehouse.execute(f"DROP TABLE IF EXISTS {rows_of(name)}{on}")
            if cluster:
                warehouse.execute(f"DROP TABLE IF EXISTS {name}{on}")
        for create in self.views.values():
            warehouse.execute(create)

    def _rows_of(self, warehouse: Warehouse) -> Callable[[str], str]:
        """The table holding a name's rows: itself, or over a cluster its local table."""
        if warehouse.cluster:
            return lambda name: f"{warehouse.database}.{name}{LOCAL_SUFFIX}"
        return lambda name: name

    def _drop_views(self, warehouse: Warehouse) -> None:
        on = f" ON CLUSTER {warehouse.cluster}" if warehouse.cluster else ""
        for view in self.views:
            warehouse.execute(f"DROP TABLE IF EXISTS {view}{on}")

    def _fill(self, warehouse: Warehouse, progress: Callable[[str], None]) -> None:
        """``new`` emptied, filled, checked, and given the table's TTL."""
        on = f" ON CLUSTER {warehouse.cluster}" if warehouse.cluster else ""
        rows_of = self._rows_of(warehouse)
        warehouse.execute(f"TRUNCATE TABLE {rows_of(self.new)}{on}")
        before = int(warehouse.scalar(f"SELECT count() FROM {self.table}") or 0)
        copy = self.fill_select.startswith("SELECT * FROM ")
        progress(f"{self.table}: copying {before} rows" if copy else f"{self.table}: recomputing {before} rows")
        warehouse.execute(f"INSERT INTO {self.new} {self.fill_select}")
        after = int(warehouse.scalar(f"SELECT count() FROM {self.new}") or 0)
        if copy and after != before and _fewer(warehouse, self):
            raise RuntimeError(
                f"{self.table}: {before} rows before the copy and {after} after; rows were added while it ran: "
                "stop what writes to the warehouse and migrate again"
            )
        if ttl := _ttl(warehouse, self.table):
            warehouse.execute(f"ALTER TABLE {rows_of(self.new)}{on} MODIFY TTL {ttl}")


def _fewer(warehouse: Warehouse, rewrite: Rewrite) -> bool:
    """Whether the copy lost rows. Counts may differ for a Replacing table
    whose copy merged duplicates sooner: then its rows are compared FINAL."""
    engine = warehouse.scalar(
        "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        {"t": rewrite.table + (LOCAL_SUFFIX if warehouse.cluster else "")},
    )
    if "Replacing" not in str(engine):
        return True
    before = int(warehouse.scalar(f"SELECT count() FROM {rewrite.table} FINAL") or 0)
    return int(warehouse.scalar(f"SELECT count() FROM {rewrite.new} FINAL") or 0) < before


def _ttl(warehouse: Warehouse, table: str) -> str:
    """The table's TTL expression (a retention setting applied earlier), or ''."""
    engine = warehouse.scalar(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        {"t": table + (LOCAL_SUFFIX if warehouse.cluster else "")},
    )
    match = re.search(r"\bTTL\s+(.*?)(?:\s+SETTINGS\b|$)", str(engine or ""))
    return match.group(1) if match else ""


def _touches(view_sql: str, table: str) -> bool:
    return re.search(rf"\b(?:TO|FROM|JOIN)\s+(?:\w+\.)?{table}(?:{LOCAL_SUFFIX})?\b", view_sql, re.I) is not None


def plan(warehouse: Warehouse) -> list[tuple[int, str, list]]:
    """Every migration's statements as this warehouse runs them. Applied
    ones are laid out too: later views and ALTERs name their tables. A
    ``REWRITE`` becomes a ``Rewrite`` step."""
    values, tables = fragments(warehouse), set()
    views: dict[str, tuple[str, str]] = {}  # name -> (statement as written, as run)
    out = []
    for version, name, path in available():
        steps: list = []
        for sql in statements(path, values):
            rewrite = _REWRITE.match(sql)
            if rewrite is None:
                run = laid_out(warehouse, [sql], tables)
                if view := _VIEW.match(sql):
                    views[view.group(1)] = (sql, run[-1])
                elif drop := _DROP.match(sql):
                    views.pop(drop.group(1), None)
                steps.extend(run)
                continue
            table, new, source = rewrite.groups()
            if source is None:
                fill = f"SELECT * FROM {table}"
            elif source in views:
                fill = _VIEW.sub("", views[source][0], count=1)
            else:
                raise ValueError(f"{path.name}: REWRITE fills {new} from {source}, which names no view created before")
            # ``new`` is created by the step itself, only while the table is not yet rewritten.
            creates = [
                s
                for s in steps
                if isinstance(s, str) and re.match(rf"CREATE\s+TABLE\s+IF\s+NOT\s+EXISTS\s+{new}(_local)?\s", s)
            ]
            steps = [s for s in steps if s not in creates]
            touching = {v: run for v, (_, run) in views.items() if _touches(run, table)}
            steps.append(Rewrite(table, new, fill, touching, creates))
        out.append((version, name, steps))
    return out


def migrate(
    warehouse: Warehouse, progress: Callable[[str], None] = lambda _: None, until: int | None = None
) -> list[str]:
    """Apply what is pending (up to version ``until``, for tests of a migration); safe to run on every start."""
    done = applied(warehouse)
    names = []
    for version, name, steps in plan(warehouse):
        if version in done or (until is not None and version > until):
            continue
        progress(f"applying {version:04d}_{name}")
        for step in steps:
            if isinstance(step, Rewrite):
                step.run(warehouse, progress)
            else:
                warehouse.execute(step)
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
