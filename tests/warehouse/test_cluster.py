"""A real cluster (2 shards × 2 replicas, ZooKeeper): layout, ingest, a node lost.

Collected only by ``make test-cluster`` (CLUSTER_TESTS=1), where the server
backend of the whole contract suite is this cluster too.
"""

from __future__ import annotations

import base64
import datetime as dt
import time

import pytest

import collector
from collector.loader import Loader
from tests.conftest import new_site
from tests.support.factories import row
from warehouse import connect
from warehouse.engine.migrate import migrate
from warehouse.queries import events


@pytest.fixture
def cluster_wh(server_warehouse, clickhouse_cluster):
    assert server_warehouse.cluster == clickhouse_cluster.name
    return server_warehouse


def local_count(cluster, index: int, site_id: str, table: str = "events_local") -> int:
    """Rows of one site held by one node itself (not through Distributed)."""
    node = connect(cluster.url(index))
    try:
        return int(node.scalar(f"SELECT count() FROM {table} WHERE site_id = {{s:String}}", {"s": site_id}) or 0)
    finally:
        node.close()


def same_copies(cluster, first: int, second: int, site_id: str) -> bool:
    """Both replicas hold the same events and the same message ids (the loader's dedup reads the
    ids, which the insert's materialized view writes and which replicate on their own)."""
    return all(
        local_count(cluster, first, site_id, table) == local_count(cluster, second, site_id, table)
        for table in ("events_local", "event_ids_local")
    )


def wait_until(predicate, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.3)


def test_tables_are_replicated_under_distributed_names(cluster_wh, clickhouse_cluster):
    for index in range(len(clickhouse_cluster.nodes)):
        node = connect(clickhouse_cluster.url(index))
        try:
            engines = {
                r["name"]: r["engine"]
                for r in node.query("SELECT name, engine FROM system.tables WHERE database = currentDatabase()")
            }
        finally:
            node.close()
        assert engines["events"] == "Distributed"
        assert engines["events_local"] == "ReplicatedReplacingMergeTree"
        assert engines["event_ids_mv"] == "MaterializedView"
        assert engines["rec_popularity_local"] == "ReplicatedMergeTree"
        assert "item_popularity" not in engines and "item_popularity_local" not in engines


def test_rows_spread_over_shards_and_copy_to_replicas(cluster_wh, clickhouse_cluster):
    site = new_site(cluster_wh)
    when = dt.datetime(2026, 3, 1, 12)
    rows = [row(site["site_id"], when, message_id=f"m{i}", anonymous_id=f"a{i}") for i in range(40)]
    events.insert_events(cluster_wh, rows)
    assert events.count_events(cluster_wh, site["site_id"]) == 40

    def copies():
        return [local_count(clickhouse_cluster, i, site["site_id"]) for i in range(4)]

    wait_until(lambda: copies()[0] == copies()[1] and copies()[2] == copies()[3], what="replicas to converge")
    per_node = copies()
    assert per_node[0] + per_node[2] == 40 and per_node[0] > 0 and per_node[2] > 0, per_node


def _auth(key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def _batch(prefix: str, count: int) -> list[dict]:
    return [
        {
            "type": "track",
            "event": "Product Viewed",
            "anonymousId": f"{prefix}-visitor-{i % 7}",
            "messageId": f"{prefix}-{i}",
            "properties": {"product_id": f"p{i % 5}"},
        }
        for i in range(count)
    ]


def test_ingest_continues_with_no_loss_while_a_node_is_down(cluster_wh, clickhouse_cluster, tmp_path):
    """Events go in through the collector and the loader before, during and
    after node 3 (the preferred replica of shard 2) is killed; none is lost
    or doubled, and the restarted node catches up with what it missed. A delete
    sent while the node is down is done by its replica, and by it once back."""
    site, erased = new_site(cluster_wh), new_site(cluster_wh)
    when = dt.datetime(2026, 3, 1, 12)
    events.insert_events(
        cluster_wh, [row(erased["site_id"], when, message_id=f"e{i}", anonymous_id=f"a{i}") for i in range(20)]
    )
    app = collector.create_app({"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool")}, warehouse=cluster_wh)
    client, loader = app.test_client(), Loader(cluster_wh, str(tmp_path / "spool"))
    headers = _auth(site["write_key"])
    down = clickhouse_cluster.nodes[2]
    try:
        assert client.post("/v1/batch", json={"batch": _batch("before", 60)}, headers=headers).status_code == 200
        assert loader.drain() == 60
        # Replication is asynchronous: rows a node took in the instant before
        # it died come back with it. Here its replica has them first.
        wait_until(lambda: same_copies(clickhouse_cluster, 2, 3, site["site_id"]), what="shard 2 replicas")

        down.kill()
        assert events.count_events(cluster_wh, site["site_id"]) == 60  # reads fail over to node 4
        # A process starting now connects and finds nothing to migrate, without waiting on node 3.
        started = time.monotonic()
        restarted = connect(clickhouse_cluster.url(0), cluster=clickhouse_cluster.name)
        assert migrate(restarted) == [] and time.monotonic() - started < 10
        restarted.close()
        started = time.monotonic()
        cluster_wh.execute("ALTER TABLE events DELETE WHERE site_id = {s:String}", {"s": erased["site_id"]})
        assert time.monotonic() - started < 30
        wait_until(lambda: events.count_events(cluster_wh, erased["site_id"]) == 0, what="the delete on both shards")
        assert client.post("/v1/batch", json={"batch": _batch("during", 60)}, headers=headers).status_code == 200
        # A re-sent batch during the outage is still recognised (dedup reads every shard).
        assert client.post("/v1/batch", json={"batch": _batch("before", 60)}, headers=headers).status_code == 200
        assert loader.drain() == 60
        assert events.count_events(cluster_wh, site["site_id"]) == 120
    finally:
        app.extensions["basirat.collector"].spool.close()
        if down.process.poll() is not None:
            down.start()

    # The restarted replica fetches what it missed; then it alone can answer for shard 2.
    wait_until(
        lambda: (
            local_count(clickhouse_cluster, 2, site["site_id"]) == local_count(clickhouse_cluster, 3, site["site_id"])
        ),
        what="node 3 to catch up",
    )
    wait_until(lambda: local_count(clickhouse_cluster, 2, erased["site_id"]) == 0, what="node 3 to catch up the delete")
    other = clickhouse_cluster.nodes[3]
    other.kill()
    try:
        assert events.count_events(cluster_wh, site["site_id"]) == 120
        ids = {r["message_id"] for r in events.recent_events(cluster_wh, site["site_id"], limit=500)}
        assert ids == {f"{p}-{i}" for p in ("before", "during") for i in range(60)}
    finally:
        other.start()
