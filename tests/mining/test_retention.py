"""Retention on both backends: a TTL where the server has one, a delete where not."""

import contextlib
import datetime as dt
import time

import pandas as pd

from mining.retention import run_retention
from mining.sessions import sessionize_site
from tests.support.config import CONFIG, config
from tests.support.factories import row
from warehouse import connect
from warehouse.engine.cluster import LOCAL_SUFFIX
from warehouse.queries import events
from warehouse.queries import segments as store
from warehouse.queries.retention import RETAINED, current_ttl_days

OLD = dt.datetime(1971, 6, 1, 12)
EPOCH = dt.datetime(1970, 1, 1)
# A limit that reaches back only to 1975: no other test keeps rows that old.
DAYS = (dt.date.today() - dt.date(1975, 1, 1)).days


@contextlib.contextmanager
def merges_stopped(warehouse, request, table):
    """No merge of ``table`` while the block runs; on a cluster on every node, as a statement reaches one."""
    if warehouse.cluster:
        cluster = request.getfixturevalue("clickhouse_cluster")
        nodes = [connect(cluster.url(index)) for index in range(len(cluster.nodes))]
        table += LOCAL_SUFFIX
    else:
        nodes = [warehouse]
    for node in nodes:
        node.execute(f"SYSTEM STOP MERGES {table}")
    try:
        yield
    finally:
        for node in nodes:
            node.execute(f"SYSTEM START MERGES {table}")
            if node is not warehouse:
                node.close()


def ids(warehouse, site_id):
    rows = warehouse.query("SELECT message_id FROM events WHERE site_id = {s:String}", {"s": site_id})
    return {r["message_id"] for r in rows}


def test_events_past_the_retention_limit_go_and_recent_ones_stay(warehouse, site):
    recent = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=1)
    events.insert_events(
        warehouse, [row(site["site_id"], OLD, message_id="old"), row(site["site_id"], recent, message_id="new")]
    )
    assert ids(warehouse, site["site_id"]) == {"old", "new"}
    messages = []
    try:
        outcome = run_retention(warehouse, config(RETENTION_DAYS=DAYS), messages.append)
        if warehouse.features["ttl"]:
            assert outcome["retention"] == "ttl" and "TTL" in messages[0]
            assert all(current_ttl_days(warehouse, t) == DAYS for t in RETAINED)
            # Merges apply the TTL; force the one holding the old row.
            warehouse.execute("OPTIMIZE TABLE events PARTITION 197106 FINAL")
        else:
            assert outcome["retention"] == "deleted" and "no TTL" in messages[0]
        deadline = time.monotonic() + 30
        while "old" in ids(warehouse, site["site_id"]) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert ids(warehouse, site["site_id"]) == {"new"}
        assert events.known_message_ids(warehouse, site["site_id"], ["new"]) == {"new"}
    finally:
        run_retention(warehouse, CONFIG, messages.append)
    assert all(current_ttl_days(warehouse, t) is None for t in RETAINED)


def test_setting_the_same_ttl_again_changes_nothing(chdb_warehouse):
    from warehouse.queries.retention import set_ttl

    try:
        assert set_ttl(chdb_warehouse, DAYS) == list(RETAINED)
        assert set_ttl(chdb_warehouse, DAYS) == []
    finally:
        run_retention(chdb_warehouse, CONFIG, lambda _: None)


def test_derived_rows_with_visitor_ids_expire_with_the_events(warehouse, site):
    """A visit older than the limit goes too: retention covers what the jobs derived."""
    from mining.sessions import sessionize_site
    from warehouse.queries import sessions

    sid = site["site_id"]
    events.insert_events(warehouse, [row(sid, OLD, message_id="old", anonymous_id="gone")])
    sessionize_site(warehouse, sid)
    assert len(sessions.visits(warehouse, sid, ["gone"])) == 1
    try:
        run_retention(warehouse, config(RETENTION_DAYS=DAYS), lambda _: None)
        if warehouse.features["ttl"]:
            assert current_ttl_days(warehouse, "sessions") == DAYS
            warehouse.execute("OPTIMIZE TABLE sessions FINAL")
        deadline = time.monotonic() + 30
        while sessions.visits(warehouse, sid, ["gone"]) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert sessions.visits(warehouse, sid, ["gone"]) == []
    finally:
        run_retention(warehouse, CONFIG, lambda _: None)


def test_model_versions_beyond_the_setting_are_pruned(warehouse, site):
    import pandas as pd

    from warehouse.queries import recommendations as store

    sid = site["site_id"]
    rows = pd.DataFrame({"site_id": [sid], "context": "overall", "item_id": "p1", "score": 1.0})
    for version in (1, 2, 3, 4):
        store.write_model(warehouse, "rec_popularity", "popularity", rows, version)
    outcome = run_retention(warehouse, config(MODEL_VERSIONS_KEPT=2), lambda _: None)
    assert outcome["pruned"] >= 1

    def versions():
        found = warehouse.query(
            "SELECT DISTINCT model_version AS v FROM rec_popularity WHERE site_id = {s:String}", {"s": sid}
        )
        return sorted(int(r["v"]) for r in found)

    deadline = time.monotonic() + 30
    while versions() != [3, 4] and time.monotonic() < deadline:
        time.sleep(0.3)
    assert versions() == [3, 4]


def test_every_neighbour_model_is_pruned_alone_in_their_shared_table(warehouse, site):
    """Co-occurrence, sequential rules and association rules share ``rec_item_neighbors``: each keeps
    its own newest versions, whatever the others hold."""
    import pandas as pd

    from warehouse.queries import recommendations as store

    sid = site["site_id"]

    def rows(relation):
        return pd.DataFrame({"site_id": [sid], "relation": relation, "item_id": "p1", "neighbor_id": "p2",
                             "score": 1.0, "support": 0.0, "lift": 0.0})  # fmt: skip

    for version in (1, 2, 3, 4):
        store.write_model(warehouse, "rec_item_neighbors", "cooccurrence", rows("also_viewed"), version)
        store.write_model(warehouse, "rec_item_neighbors", "sequential", rows("followed_by"), version + 10)
    store.write_model(warehouse, "rec_item_neighbors", "rules", rows("bought_together"), 1)
    run_retention(warehouse, config(MODEL_VERSIONS_KEPT=2), lambda _: None)

    def versions():
        found = warehouse.query(
            "SELECT relation, groupUniqArray(model_version) AS v FROM rec_item_neighbors "
            "WHERE site_id = {s:String} GROUP BY relation",
            {"s": sid},
        )
        return {r["relation"]: sorted(map(int, r["v"])) for r in found}

    expected = {"also_viewed": [3, 4], "followed_by": [13, 14], "bought_together": [1]}
    deadline = time.monotonic() + 30
    while versions() != expected and time.monotonic() < deadline:
        time.sleep(0.3)
    assert versions() == expected


def test_folded_votes_of_older_generations_are_pruned(warehouse, site):
    """A full popularity fold starts a generation; retention keeps only the current one."""
    from recommender.jobs import visitor_votes

    sid = site["site_id"]
    events.insert_events(warehouse, [row(sid, dt.datetime.now() - dt.timedelta(hours=1), event="Product Viewed",
                                         anonymous_id="a", product_id="p1")])  # fmt: skip
    settings = {"LATE_EVENTS_MINUTES": 60}
    first = visitor_votes(warehouse, sid, {**settings, "full": time.time_ns()}, lambda _: None)
    current = visitor_votes(warehouse, sid, {**settings, "full": time.time_ns()}, lambda _: None)
    assert first != current
    run_retention(warehouse, CONFIG, lambda _: None)

    def generations():
        found = warehouse.query(
            "SELECT DISTINCT generation AS g FROM rec_visitor_votes WHERE site_id = {s:String}", {"s": sid}
        )
        return sorted(int(r["g"]) for r in found)

    deadline = time.monotonic() + 30
    while generations() != [current] and time.monotonic() < deadline:
        time.sleep(0.3)
    assert generations() == [current]


def test_basket_counts_of_older_generations_are_pruned(warehouse, site):
    """A full basket count starts a generation; retention keeps only the current one in each of its tables."""
    from recommender.jobs import basket_counts

    sid = site["site_id"]
    at = dt.datetime.now() - dt.timedelta(hours=1)
    events.insert_events(warehouse, [row(sid, at, event="Product Added", anonymous_id="a", product_id=p, message_id=p)
                                     for p in ("p1", "p2")])  # fmt: skip
    sessionize_site(warehouse, sid, timeout_minutes=30)
    settings = {"LATE_EVENTS_MINUTES": 60}
    first = basket_counts(warehouse, sid, {**settings, "full": time.time_ns()}, lambda _: None)
    current = basket_counts(warehouse, sid, {**settings, "full": time.time_ns()}, lambda _: None)
    assert first != current
    run_retention(warehouse, CONFIG, lambda _: None)

    def generations():
        return {
            table: sorted(int(r["g"]) for r in warehouse.query(
                f"SELECT DISTINCT generation AS g FROM {table} WHERE site_id = {{s:String}}", {"s": sid}))
            for table in ("rec_basket_counts", "rec_visitor_baskets", "rec_basket_items")
        }  # fmt: skip

    deadline = time.monotonic() + 30
    while set(map(tuple, generations().values())) != {(current,)} and time.monotonic() < deadline:
        time.sleep(0.3)
    assert set(map(tuple, generations().values())) == {(current,)}


def test_score_runs_beyond_the_setting_go_and_another_sites_stay(warehouse, site):
    """Each run of the scores is a partition: a site's old runs are dropped whole, and a run that
    another site's kept scores share loses only this site's rows."""
    import pandas as pd

    from warehouse.queries import scores, sites

    sid, other = site["site_id"], sites.create_site(warehouse, "other scores")["site_id"]
    base = 7_000_000_000_000_000_000  # above any version the other tests write
    zero = {name: pd.Series([0], dtype="uint32") for name in ("orders", "feedback_count")}
    cells = {name: pd.Series([3], dtype="uint8") for name in ("recency_score", "frequency_score", "monetary_score")}

    def write(site_id, version):
        frame = pd.DataFrame({"site_id": [site_id], "model_version": pd.Series([version], dtype="uint64"),
                              "person_id": ["p1"], "historic_value": [1.0], **zero, **cells,
                              "computed_at": pd.to_datetime(["2026-01-01"]).astype("datetime64[s]")})  # fmt: skip
        scores.write_scores(warehouse, frame)

    for n in (1, 2, 3, 4):
        write(sid, base + n)
    write(other, base + 2)
    write(other, base + 5)
    run_retention(warehouse, config(MODEL_VERSIONS_KEPT=2), lambda _: None)

    def runs(site_id):
        found = warehouse.query(
            "SELECT DISTINCT model_version AS v FROM person_scores "
            "WHERE site_id = {s:String} AND model_version > {b:UInt64}",
            {"s": site_id, "b": base},
        )
        return sorted(int(r["v"]) - base for r in found)

    deadline = time.monotonic() + 30
    while runs(sid) != [3, 4] and time.monotonic() < deadline:
        time.sleep(0.3)
    assert runs(sid) == [3, 4]
    assert runs(other) == [2, 5]


def stays(warehouse, site_id):
    rows = warehouse.query(
        "SELECT segment, person_id, entered_at, left_at, version FROM segment_members WHERE site_id = {s:String}",
        {"s": site_id},
    )
    return {(r["segment"], r["person_id"], r["entered_at"].replace(tzinfo=None)) for r in rows}


def test_segment_stays_that_ended_past_the_limit_go_whole_and_open_ones_stay(warehouse, site, request):
    """A stay is written open, then closed by a newer row of the same key in another part: the delete
    takes both rows (checked with merges stopped, so both are there), or the opening row would read as
    a member again once the closing one is gone. Open stays stay, however old."""
    sid = site["site_id"]
    day = dt.timedelta(days=1)
    ended_long_ago = ("window_shoppers", "ann", OLD, OLD + 3 * day)
    open_since_long_ago = ("window_shoppers", "bob", OLD, None)
    came_back = ("window_shoppers", "ann", OLD + 10 * day, None)
    ended_lately = ("repeat_buyers", "cy", OLD, dt.datetime.now() - day)
    with merges_stopped(warehouse, request, "segment_members"):
        for segment, person, entered, left in (ended_long_ago, open_since_long_ago, came_back, ended_lately):
            opened = pd.DataFrame(
                [{"segment": segment, "person_id": person, "entered_at": entered, "left_at": EPOCH, "value": 1.0}]
            )
            store.write_memberships(warehouse, sid, opened)
            if left:
                store.write_memberships(warehouse, sid, opened.assign(left_at=left))
        assert warehouse.scalar("SELECT count() FROM segment_members WHERE site_id = {s:String}", {"s": sid}) == 6
        cutoff = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=DAYS)
        found = store.ended_stays(warehouse, cutoff)
        assert (found["site_id"], found["segment"]) == (sid, "window_shoppers") and len(found["stays"]) == 1
        taken = warehouse.query(f"SELECT person_id, left_at FROM segment_members WHERE {store.ENDED_ROWS}", found)
        assert sorted((r["person_id"], r["left_at"].year) for r in taken) == [("ann", 1970), ("ann", 1971)]
        # Unmerged, a closed stay's opening row is still stored: the open stays are each stay's newest row.
        members = store.open_memberships(warehouse, sid)
        assert sorted(zip(members["person_id"], members["entered_at"])) == [("ann", came_back[2]), ("bob", OLD)]
        assert {r["segment"]: r["size"] for r in store.segment_sizes(warehouse, sid)} == {"window_shoppers": 2}

    messages = []
    try:
        run_retention(warehouse, config(RETENTION_DAYS=DAYS), messages.append)
    finally:
        run_retention(warehouse, CONFIG, messages.append)

    assert stays(warehouse, sid) == {stay[:3] for stay in (open_since_long_ago, came_back, ended_lately)}
    members = store.open_memberships(warehouse, sid)
    assert set(zip(members["segment"], members["person_id"])) == {
        ("window_shoppers", "bob"),
        ("window_shoppers", "ann"),
    }
    assert any("1 segment stays" in m for m in messages)
    assert store.expire_stays(warehouse, DAYS) == 0


def test_ended_stays_go_in_deletes_of_bounded_size(warehouse, site):
    sid = site["site_id"]
    for person in ("dee", "eve", "fay"):
        opened = pd.DataFrame(
            [{"segment": "at_risk", "person_id": person, "entered_at": OLD, "left_at": EPOCH, "value": 0.0}]
        )
        store.write_memberships(warehouse, sid, opened)
        store.write_memberships(warehouse, sid, opened.assign(left_at=OLD + dt.timedelta(days=1)))
    said = []
    # A key is "dee|44539200": each delete names one.
    assert store.expire_stays(warehouse, DAYS, chars=16, progress=said.append) == 3
    assert stays(warehouse, sid) == set()
    assert said == ["retention: 3 ended segment stays deleted"]
