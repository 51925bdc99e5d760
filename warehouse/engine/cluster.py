"""Cluster mode: the same migrations, laid out over a ClickHouse cluster.

With a cluster name set, each ``CREATE TABLE name $ON_CLUSTER (...) ENGINE =
XMergeTree(...)`` of a migration becomes two tables on every node:

- ``name_local``: the rows, in the Replicated variant of the engine, so every
  shard keeps a copy on each of its replicas (ZooKeeper path per shard);
- ``name``: a ``Distributed`` table over ``name_local`` that keeps the original
  name, so every query and insert of the product runs unchanged.

Rows are sharded by a hash of the table's sort key: rows a Replacing or
Summing engine must collapse share a sort key and therefore a shard.

A materialized view must read the rows where they land, so ``TO target`` and
``FROM source`` of a view name the local tables: on each node the view sees
the inserts into that node's ``source_local`` and writes to its
``target_local``, which replicates. Lookups read ``target`` (Distributed) and
see every shard. ``ALTER TABLE name ... COLUMN`` changes both tables; other
``ALTER``s (mutations, TTL) act on the rows, so on ``name_local``.
"""

from __future__ import annotations

import re

_CREATE = re.compile(r"^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s+ON\s+CLUSTER\s+(\w+)", re.I)
_ENGINE = re.compile(r"\bENGINE\s*=\s*(\w*MergeTree)\s*\(", re.I)
_ORDER = re.compile(r"\bORDER\s+BY\s+", re.I)
_VIEW = re.compile(r"^CREATE\s+MATERIALIZED\s+VIEW\b", re.I)
_ALTER = re.compile(r"^ALTER\s+TABLE\s+(\w+)(\s+ON\s+CLUSTER\s+\w+)", re.I)
_COLUMN_CHANGE = re.compile(r"^\s*(ADD|DROP|MODIFY|CLEAR|COMMENT|RENAME)\s+COLUMN\b", re.I)
_MUTATION = re.compile(r"^\s*ALTER\s+TABLE\s+(`?)(\w+)\1\s+(DELETE|UPDATE|DROP\s+PARTITION)\b", re.I)
_LOCAL_ALTER = re.compile(r"^\s*ALTER\s+TABLE\s+((?:\w+\.)?\w+_local)\s+ON\s+CLUSTER\s+\w+\s", re.I)
LOCAL_SUFFIX = "_local"


class ClusterSchemaError(ValueError):
    """A migration statement the cluster layout cannot place."""


def _closing(text: str, open_at: int) -> int:
    """Index of the parenthesis closing the one at ``open_at``."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ClusterSchemaError(f"unbalanced parentheses in: {text[:80]}")


def sort_key(sql: str) -> str:
    """The ORDER BY expression list of a CREATE TABLE, without outer parentheses."""
    match = _ORDER.search(sql)
    if match is None:
        raise ClusterSchemaError(f"a table needs ORDER BY to be sharded: {sql[:80]}")
    start = match.end()
    if sql[start] == "(":
        return sql[start + 1 : _closing(sql, start)].strip()
    return re.split(r"\s", sql[start:], maxsplit=1)[0]


def replicated_engine(sql: str, database: str, table: str) -> str:
    """The statement with its MergeTree engine made Replicated, with the
    explicit ZooKeeper path and replica arguments old servers require."""
    match = _ENGINE.search(sql)
    if match is None:
        raise ClusterSchemaError(f"a clustered table needs a MergeTree-family engine: {sql[:80]}")
    engine, open_at = match.group(1), match.end() - 1
    close_at = _closing(sql, open_at)
    args = sql[open_at + 1 : close_at].strip()
    if not engine.startswith("Replicated"):
        engine = "Replicated" + engine
    replica = f"'/clickhouse/tables/{{shard}}/{database}/{table}', '{{replica}}'"
    inner = replica + (", " + args if args else "")
    return f"{sql[: match.start()]}ENGINE = {engine}({inner}){sql[close_at + 1 :]}"


def create_table(sql: str, database: str) -> tuple[list[str], str]:
    """Local replicated table + Distributed table; returns (statements, name)."""
    match = _CREATE.match(sql)
    name, cluster = match.group(2), match.group(3)
    local = name + LOCAL_SUFFIX
    # ``AS other``: qualified, as each node runs the statement in its own default database.
    rest = re.sub(r"^(\s+AS\s+)(\w+)\b", rf"\g<1>{database}.\g<2>", sql[match.end() :])
    renamed = sql[: match.start(2)] + local + sql[match.end(2) : match.end()] + rest
    shard_by = f"cityHash64({sort_key(sql)})"
    distributed = (
        f"CREATE TABLE IF NOT EXISTS {name} ON CLUSTER {cluster} AS {database}.{local} "
        f"ENGINE = Distributed({cluster}, {database}, {local}, {shard_by})"
    )
    return [replicated_engine(renamed, database, local), distributed], name


def materialized_view(sql: str, tables: set[str], database: str) -> str:
    """Point a view's TO and FROM/JOIN at the local tables it must live beside."""
    if re.search(r"\bON\s+CLUSTER\b", sql, re.I) and not re.search(r"\bTO\s+\w+", sql, re.I):
        raise ClusterSchemaError("a materialized view in cluster mode needs TO <table>")

    def local(match: re.Match) -> str:
        # Qualified: each node runs the statement in its own default database.
        table = match.group(2)
        return match.group(1) + (f"{database}.{table}{LOCAL_SUFFIX}" if table in tables else table)

    return re.sub(r"(\b(?:TO|FROM|JOIN)\s+)(\w+)\b", local, sql, flags=re.I)


def alter_table(sql: str, tables: set[str], database: str) -> list[str]:
    match = _ALTER.match(sql)
    name = match.group(1)
    if name not in tables:
        return [sql]
    local = f"{sql[: match.start(1)]}{database}.{name}{LOCAL_SUFFIX}{sql[match.end(1) :]}"
    if _COLUMN_CHANGE.match(sql[match.end() :]):
        return [local, f"{sql[: match.start(1)]}{database}.{name}{sql[match.end(1) :]}"]
    return [local]


def for_cluster(statements: list[str], database: str, tables: set[str]) -> list[str]:
    """Rewrite one migration's statements for the cluster layout.

    ``tables`` holds the clustered tables created so far (earlier migrations
    included) and is extended with the ones created here.
    """
    out = []
    for sql in statements:
        if _CREATE.match(sql) and _ENGINE.search(sql):
            created, name = create_table(sql, database)
            tables.add(name)
            out.extend(created)
        elif _VIEW.match(sql):
            out.append(materialized_view(sql, tables, database))
        elif _ALTER.match(sql):
            out.extend(alter_table(sql, tables, database))
        else:
            out.append(sql)
    return out


def mutation_for_cluster(sql: str, cluster: str, database: str) -> str:
    """``ALTER TABLE name DELETE|UPDATE|DROP PARTITION`` acts on the rows,
    held by ``name_local`` on every shard; a Distributed table cannot be mutated."""
    match = _MUTATION.match(sql)
    if match is None or not cluster or match.group(2).endswith(LOCAL_SUFFIX):
        return sql
    name, quoted_end = match.group(2), match.end(2) + len(match.group(1))
    return f"{sql[: match.start(1)]}{database}.{name}{LOCAL_SUFFIX} ON CLUSTER {cluster}{sql[quoted_end:]}"


def once_per_shard(sql: str) -> str | None:
    """``ALTER TABLE x_local ON CLUSTER c ...`` as the statement one replica of each shard runs, or None.

    The ``_local`` tables are replicated: an ALTER run on one replica reaches
    the others through ZooKeeper, which is all that ``ON CLUSTER`` does for
    them. Sent through the distributed DDL queue instead, two replicas of a
    shard can both run it, and on ClickHouse 18.16 the second then stops its
    DDL queue for good ("Node exists ... /executed"), so every later ``ON
    CLUSTER`` statement waits for that node forever. The server backend runs
    these statements on each shard itself.
    """
    match = _LOCAL_ALTER.match(sql)
    if match is None:
        return None
    return f"ALTER TABLE {match.group(1)} {sql[match.end() :]}"
