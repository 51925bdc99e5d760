"""The warehouse contract, run against chDB, the Unix socket to an owning process, and a real ClickHouse server."""

import datetime as dt

import pytest

from tests.conftest import BACKENDS
from tests.support import factories
from warehouse import WarehouseError
from warehouse.engine.migrate import applied, available, migrate
from warehouse.engine.socket_proxy import SocketWarehouse, serve_socket
from warehouse.queries import events, sites

NOW = dt.datetime(2026, 3, 1, 12, 0, 0)
CONTRACT_BACKENDS = [pytest.param(b, marks=pytest.mark.server) if b == "server" else b for b in BACKENDS]
if "chdb" in BACKENDS:
    CONTRACT_BACKENDS.append("socket")  # what every other `basirat` command uses beside `basirat serve`


@pytest.fixture(scope="module")
def socket_warehouse(chdb_warehouse, tmp_path_factory):
    """The embedded warehouse as another process sees it: through its owner's socket."""
    path = str(tmp_path_factory.mktemp("socket") / "basirat.sock")
    server = serve_socket(chdb_warehouse, path)
    client = SocketWarehouse(path, url=chdb_warehouse.url)
    yield client
    client.close()
    server.shutdown()
    server.server_close()


@pytest.fixture(params=CONTRACT_BACKENDS)
def warehouse(request):
    return request.getfixturevalue(f"{request.param}_warehouse")


def row(site_id, message_id, **extra):
    return factories.row(site_id, NOW, message_id=message_id, **extra)


def test_migrations_are_recorded_and_idempotent(warehouse):
    assert migrate(warehouse) == []
    assert applied(warehouse) == {version for version, _, _ in available()}


def test_site_keys_round_trip(warehouse, site):
    found = sites.get_site(warehouse, site["site_id"])
    assert found["name"] == site["name"] and found["domains"] == ["shop.example"]
    index = sites.key_index(warehouse)
    assert index["write"][site["write_key"]] == site["site_id"]
    assert index["public"][site["public_key"]] == site["site_id"]


def test_rotating_a_key_retires_the_old_one(warehouse, site):
    sites.rotate_key(warehouse, site["site_id"], "write_key")
    index = sites.key_index(warehouse)
    assert site["write_key"] not in index["write"]
    assert sites.get_site(warehouse, site["site_id"])["write_key"] in index["write"]


def test_events_keep_arrays_nulls_and_unicode(warehouse, site):
    events.insert_events(
        warehouse,
        [
            row(
                site["site_id"],
                "m1",
                item_ids=["p1", "p'2"],
                item_prices=[1.5, 2.0],
                item_quantities=[1, 3],
                score=4.0,
                title="Café «naïve» 🎁",
            ),
            row(site["site_id"], "m2"),
        ],
    )
    got = {
        r["message_id"]: r
        for r in warehouse.query(
            "SELECT message_id, item_ids, item_prices, item_quantities, score, title, timestamp FROM events "
            "WHERE site_id = {s:String}",
            {"s": site["site_id"]},
        )
    }
    assert list(got["m1"]["item_ids"]) == ["p1", "p'2"]
    assert list(got["m1"]["item_quantities"]) == [1, 3]
    assert got["m1"]["score"] == 4.0 and got["m2"]["score"] is None
    assert got["m1"]["title"] == "Café «naïve» 🎁"
    assert got["m1"]["timestamp"] == dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)


def test_columns_insert_like_a_frame(warehouse, site):
    """The loader's columns path stores what the frame path stores, value for value."""
    rows = [
        row(site["site_id"], "f1", item_ids=["p1", "p'2"], item_prices=[1.5, 2.0], item_quantities=[1, 3],
            score=4.0, title="Café «naïve» 🎁", flags=["claimed"], timestamp_ms=999, is_bot=1),
        row(site["site_id"], "f2", received_at=dt.datetime(2026, 3, 1, 12, 0, 7)),
    ]  # fmt: skip
    events.insert_events(warehouse, rows)
    as_columns = [{**r, "message_id": "c" + r["message_id"][1:]} for r in rows]
    assert events.insert_event_columns(warehouse, events.event_columns(as_columns)) == 2
    assert events.insert_event_columns(warehouse, events.event_columns([])) == 0
    stored = warehouse.query(
        "SELECT * FROM events WHERE site_id = {s:String} AND message_id IN ('f1', 'f2', 'c1', 'c2') "
        "ORDER BY substring(message_id, 2), message_id",
        {"s": site["site_id"]},
    )
    assert [r["message_id"] for r in stored] == ["c1", "f1", "c2", "f2"]
    for by_columns, by_frame in (stored[0:2], stored[2:4]):
        assert {**by_columns, "message_id": ""} == {**by_frame, "message_id": ""}
    assert stored[0]["timestamp"] == dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc)
    assert stored[2]["received_at"] == dt.datetime(2026, 3, 1, 12, 0, 7, tzinfo=dt.timezone.utc)
    assert (stored[0]["score"], stored[2]["score"], list(stored[0]["flags"])) == (4.0, None, ["claimed"])
    with pytest.raises(WarehouseError):
        events.insert_event_columns(warehouse, {**events.event_columns(rows[:1]), "timestamp": ["not a time"]})


def test_an_insert_larger_than_a_slice_arrives_whole(chdb_warehouse, monkeypatch):
    """The embedded engine inserts big frames and column sets in slices; every row arrives once."""
    from warehouse.engine import embedded

    monkeypatch.setattr(embedded, "INSERT_SLICE_ROWS", 3)
    site = sites.create_site(chdb_warehouse, "sliced")
    rows = [row(site["site_id"], f"s{i}", item_ids=[f"p{i}"], title=f"t{i}") for i in range(8)]
    events.insert_events(chdb_warehouse, rows[:4])
    assert events.insert_event_columns(chdb_warehouse, events.event_columns(rows[4:])) == 4
    stored = chdb_warehouse.query(
        "SELECT message_id, title, item_ids FROM events WHERE site_id = {s:String} ORDER BY message_id",
        {"s": site["site_id"]},
    )
    assert [(r["message_id"], r["title"], list(r["item_ids"])) for r in stored] == [
        (f"s{i}", f"t{i}", [f"p{i}"]) for i in range(8)
    ]


def test_array_results_read_as_arrow_match_chdbs_own_frames(chdb_warehouse):
    """The embedded engine reads a result with arrays of strings or numbers through Arrow (chDB's
    DataFrame output is slow for them); the frame is the one chDB's DataFrame output gives."""
    import pandas as pd

    sql = (
        "SELECT concat('s', toString(number)) AS session_id, [toString(number), 'p'] AS items, "
        "range(number % 3) AS counts, toDateTime(1700000000 + number, 'UTC') AS last_seen, "
        "number * 0.5 AS score FROM numbers({n:UInt32})"
    )
    for n in (5, 0):
        got = chdb_warehouse.query_df(sql, {"n": n})
        expected = chdb_warehouse._run(sql, {"n": n}, "DataFrame")
        expected = expected if isinstance(expected, pd.DataFrame) else pd.DataFrame()
        assert list(got.columns) == ["session_id", "items", "counts", "last_seen", "score"]
        assert chdb_warehouse._result_types[sql] is not None  # read through Arrow
        if n:
            assert got.dtypes.to_dict() == expected.dtypes.to_dict()
            assert [list(v) for v in got["items"]] == [list(v) for v in expected["items"]]
            assert [list(v) for v in got["counts"]] == [list(v) for v in expected["counts"]]
            assert got.drop(columns=["items", "counts"]).equals(expected.drop(columns=["items", "counts"]))
        else:
            assert got.empty
    # A tuple has no Arrow form that chDB's frames share: that result is read as before.
    tuples = "SELECT [(1, 'x')] AS pairs"
    assert list(chdb_warehouse.query_df(tuples)["pairs"][0][0]) == [1, "x"]
    assert chdb_warehouse._result_types[tuples] is None


def test_known_message_ids_finds_only_loaded_ids(warehouse, site):
    hostile = "x' OR 1=1 --\\'\t{ids:String}"
    events.insert_events(warehouse, [row(site["site_id"], "seen"), row(site["site_id"], hostile)])
    assert events.known_message_ids(warehouse, site["site_id"], ["seen", "new", hostile, "x"]) == {"seen", hostile}
    other = sites.create_site(warehouse, "other")
    assert events.known_message_ids(warehouse, other["site_id"], ["seen"]) == set()


def test_tables_sent_with_a_statement_are_data_and_last_one_statement(warehouse):
    values = ["plain", "it's", "back\\slash", "tab\tnew\nline", "{x:String}", "100%", "ناشناس", ""]
    got = warehouse.query(
        "SELECT value, value IN second AS also FROM first ORDER BY value",
        tables={"first": values, "second": ["it's", "ناشناس"]},
    )
    assert [r["value"] for r in got] == sorted(values)
    assert {r["value"] for r in got if r["also"]} == {"it's", "ناشناس"}
    again = warehouse.query("SELECT count() AS n FROM first", tables={"first": ["one"]})
    assert again == [{"n": 1}]
    with pytest.raises(WarehouseError):
        warehouse.query("SELECT count() FROM first")
    with pytest.raises(WarehouseError, match="not a name"):
        warehouse.query("SELECT 1", tables={"x; DROP TABLE events": ["a"]})


@pytest.mark.parametrize(
    "value", ["x' OR 1=1 --", "\\'; DROP TABLE events; --", "%s %(x)s {x:String}", "100%", "tab\there\nline\\n"]
)
def test_parameters_are_bound_not_pasted(warehouse, value):
    assert warehouse.scalar("SELECT {v:String} AS v", {"v": value}) == value
    assert warehouse.scalar("SELECT length({v:Array(String)}) AS n", {"v": [value, value]}) == 2


def test_like_patterns_survive_parameter_rendering(warehouse):
    assert warehouse.scalar("SELECT 'abc' LIKE '%b%' AND {v:String} = 'x' AS ok", {"v": "x"}) == 1


def test_datetime_and_integer_parameters(warehouse):
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert warehouse.scalar("SELECT toString({t:DateTime('UTC')}) AS t", {"t": when}) == "2026-01-02 03:04:05"
    rows = warehouse.query("SELECT number FROM system.numbers LIMIT {n:UInt32}", {"n": 3})
    assert [r["number"] for r in rows] == [0, 1, 2]


def test_operator_text_refuses_writes(warehouse):
    with pytest.raises(WarehouseError, match="only read statements"):
        warehouse.text("INSERT INTO sites (site_id) VALUES ('x')")
    with pytest.raises(WarehouseError):
        warehouse.text("SELECT * FROM no_such_table")
    for sql in ("SELECT 1 FORMAT Vertical", "select 1 format JSON;", "SELECT 1 FORMAT CSV SETTINGS max_threads = 1"):
        with pytest.raises(WarehouseError, match="--format"):
            warehouse.text(sql)
    assert warehouse.text("SELECT 'FORMAT Vertical' AS format", "CSV") == '"FORMAT Vertical"\n'


def test_operator_formats_are_identical_on_both_backends(chdb_warehouse, server_warehouse):
    sql = (
        "SELECT toUInt32(7) AS n, 2.5 AS f, 4.0 AS whole, 'a,\"b' AS s, ['x', 'y'] AS arr, "
        "toDateTime('2026-01-02 03:04:05', 'UTC') AS t, CAST(NULL AS Nullable(Float64)) AS missing"
    )
    for fmt in ("CSV", "CSVWithNames", "TSV", "JSONEachRow", "PrettyCompact"):
        assert chdb_warehouse.text(sql, fmt) == server_warehouse.text(sql, fmt), fmt


def test_features_follow_the_server_version(chdb_warehouse, server_warehouse):
    assert chdb_warehouse.features["low_cardinality"] is True
    if server_warehouse.version < (19, 0):
        assert server_warehouse.features["low_cardinality"] is False
        column = server_warehouse.query(
            "SELECT type FROM system.columns WHERE database = currentDatabase() AND table = 'events' AND name = 'type'"
        )[0]["type"]
        assert column == "String"
