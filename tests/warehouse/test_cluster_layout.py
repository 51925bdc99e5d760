"""How migrations are rewritten for a cluster (the live cluster runs in make test-cluster)."""

import re
from string import Template

from warehouse.engine.cluster import for_cluster, mutation_for_cluster, once_per_shard
from warehouse.engine.migrate import MIGRATIONS, statements

FRAGMENTS = {"LC_STRING": "String", "ON_CLUSTER": "ON CLUSTER c1"}


def test_replacing_table_keeps_its_version_after_the_replica_arguments():
    sql = (
        "CREATE TABLE IF NOT EXISTS identity ON CLUSTER c1 (site_id String, anon String, version UInt64) "
        "ENGINE = ReplacingMergeTree(version) ORDER BY (site_id, anon)"
    )
    local, distributed = for_cluster([sql], "db", tables := set())
    assert "identity_local ON CLUSTER c1" in local
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/identity_local', '{replica}', version)" in local
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS identity ON CLUSTER c1 AS db.identity_local "
        "ENGINE = Distributed(c1, db, identity_local, cityHash64(site_id, anon))"
    )
    assert tables == {"identity"}


def test_summing_table_with_nested_arguments_and_a_single_column_key():
    sql = (
        "CREATE TABLE daily ON CLUSTER c1 (site_id String, n UInt64, m UInt64) "
        "ENGINE = SummingMergeTree((n, m)) PARTITION BY tuple() ORDER BY site_id SETTINGS index_granularity = 8192"
    )
    local, distributed = for_cluster([sql], "db", set())
    assert "ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/db/daily_local', '{replica}', (n, m))" in local
    assert local.endswith("ORDER BY site_id SETTINGS index_granularity = 8192")
    assert distributed.endswith("cityHash64(site_id))")


def test_views_move_beside_local_tables_and_alters_reach_the_right_table():
    tables = {"events", "event_ids"}
    view = "CREATE MATERIALIZED VIEW IF NOT EXISTS v ON CLUSTER c1 TO event_ids AS SELECT a FROM events"
    assert for_cluster([view], "db", tables) == [
        "CREATE MATERIALIZED VIEW IF NOT EXISTS v ON CLUSTER c1 TO db.event_ids_local AS SELECT a FROM db.events_local"
    ]
    assert for_cluster(["ALTER TABLE events ON CLUSTER c1 ADD COLUMN x String"], "db", tables) == [
        "ALTER TABLE db.events_local ON CLUSTER c1 ADD COLUMN x String",
        "ALTER TABLE db.events ON CLUSTER c1 ADD COLUMN x String",
    ]
    assert for_cluster(["ALTER TABLE events ON CLUSTER c1 DELETE WHERE 1"], "db", tables) == [
        "ALTER TABLE db.events_local ON CLUSTER c1 DELETE WHERE 1"
    ]


def test_runtime_mutations_act_on_local_tables_only_in_cluster_mode():
    sql = "ALTER TABLE events DELETE WHERE site_id = {s:String}"
    assert mutation_for_cluster(sql, "", "db") == sql
    assert mutation_for_cluster(sql, "c1", "db") == (
        "ALTER TABLE db.events_local ON CLUSTER c1 DELETE WHERE site_id = {s:String}"
    )
    quoted = "ALTER TABLE `events` DELETE WHERE site_id = {s:String}"
    assert mutation_for_cluster(quoted, "c1", "db") == mutation_for_cluster(sql, "c1", "db")


def test_alters_of_replicated_local_tables_run_once_per_shard_not_through_the_ddl_queue():
    """Mutations, column changes and TTLs of ``_local`` tables lose ON CLUSTER (the server backend
    sends them to a replica of each shard); the Distributed tables' ALTERs keep the DDL queue."""
    mutation = mutation_for_cluster("ALTER TABLE events DELETE WHERE site_id = {s:String}", "c1", "db")
    assert once_per_shard(mutation) == "ALTER TABLE db.events_local DELETE WHERE site_id = {s:String}"
    assert once_per_shard("ALTER TABLE db.events_local ON CLUSTER c1 ADD COLUMN x UInt8") == (
        "ALTER TABLE db.events_local ADD COLUMN x UInt8"
    )
    assert once_per_shard("ALTER TABLE db.events ON CLUSTER c1 ADD COLUMN x UInt8") is None
    assert once_per_shard("ALTER TABLE db.events_local DELETE WHERE 1") is None


def test_every_migration_uses_the_cluster_fragments():
    """A table created without $ON_CLUSTER, or with an engine outside the
    MergeTree family, would exist on one node only, or be unreplicated, in
    cluster mode."""
    for path in sorted(MIGRATIONS.glob("*.sql")):
        text = path.read_text()
        for sql in statements(path, {k: "$" + k for k in FRAGMENTS}):
            if re.match(r"CREATE\s+(TABLE|MATERIALIZED\s+VIEW)|ALTER\s+TABLE", sql, re.I):
                assert "$ON_CLUSTER" in sql, f"{path.name}: {sql[:60]}"
            if re.match(r"CREATE\s+TABLE", sql, re.I):
                assert re.search(r"ENGINE\s*=\s*\w*MergeTree\(", sql), f"{path.name}: {sql[:60]}"
        assert Template(text).substitute(FRAGMENTS)
