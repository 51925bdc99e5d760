"""Limits and bad input at the collector: spool full, rate limits, quarantine, group commit."""

import base64
import datetime as dt
import gzip
import json
import threading
import time
import uuid

import pytest

import collector
from collector.loader import Loader
from collector.spool import Spool, read_records, segments
from tests.support.live import basirat
from warehouse.queries import quarantine


def auth(key):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def track(**extra):
    return {"type": "track", "event": "Product Viewed", "anonymousId": "a", "messageId": uuid.uuid4().hex, **extra}


def make_app(warehouse, tmp_path, **config):
    return collector.create_app({"TESTING": True, "SPOOL_DIR": str(tmp_path / "spool"), **config}, warehouse=warehouse)


def test_concurrent_appends_share_fsyncs(tmp_path):
    spool = Spool(str(tmp_path))
    threads = [
        threading.Thread(target=lambda n=n: [spool.append([{"n": n, "i": i}]) for i in range(50)]) for n in range(16)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spool.close()
    rows = [r for name in segments(str(tmp_path)) for r in read_records(str(tmp_path / name), 0, 10**6)[0]]
    assert sorted((r["n"], r["i"]) for r in rows) == [(n, i) for n in range(16) for i in range(50)]
    assert 0 < spool.syncs < 800  # 800 appends, fewer syncs: requests shared them


def test_full_spool_answers_503_until_loaded(chdb_warehouse, tmp_path):
    from tests.conftest import new_site

    site = new_site(chdb_warehouse)
    app = make_app(chdb_warehouse, tmp_path, SPOOL_MAX_BYTES=20_000)
    client = app.test_client()
    statuses = [
        client.post("/v1/batch", json={"batch": [track() for _ in range(10)]}, headers=auth(site["write_key"]))
        for _ in range(20)
    ]
    full = [r for r in statuses if r.status_code == 503]
    assert full and {r.status_code for r in statuses} == {200, 503}
    assert all(r.headers["Retry-After"] and r.json["error"] == "spool_full" for r in full)
    assert client.get("/healthz").status_code == 503
    accepted = 10 * sum(r.status_code == 200 for r in statuses)
    assert Loader(chdb_warehouse, app.config["SPOOL_DIR"]).drain() == accepted
    assert client.get("/healthz").status_code == 200
    ok = client.post("/v1/batch", json={"batch": [track()]}, headers=auth(site["write_key"]))
    assert ok.status_code == 200
    app.extensions["basirat.collector"].spool.close()


def test_rate_limits_answer_429_per_ip_and_per_site(chdb_warehouse, tmp_path):
    from tests.conftest import new_site

    site = new_site(chdb_warehouse)
    app = make_app(chdb_warehouse, tmp_path, IP_RATE_LIMIT=5, SITE_RATE_LIMIT=0)
    client = app.test_client()
    codes = [client.post("/v1/track", json=track(), headers=auth(site["write_key"])).status_code for _ in range(8)]
    assert codes.count(429) >= 2 and codes[:5] == [200] * 5
    other_ip = client.post(
        "/v1/track", json=track(), headers=auth(site["write_key"]), environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert other_ip.status_code == 200

    app = make_app(chdb_warehouse, tmp_path, IP_RATE_LIMIT=0, SITE_RATE_LIMIT=3)
    client = app.test_client()
    answers = [client.post("/v1/track", json=track(), headers=auth(site["write_key"])) for _ in range(5)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and all(a.json["error"] == "rate_limited" and a.headers["Retry-After"] for a in limited)


@pytest.mark.parametrize(
    "body, error",
    [
        (b'{"batch": [{"type": "track", "event": "\xff\xfe"}]}', "bad_json"),  # invalid UTF-8
        (b'{"batch": [{"type": "track", "event": "x\\ud800", "anonymousId": "a"}]}', "bad_json"),  # lone surrogate
        (b'{"batch": [{"type": "track", "event": "x", "anonymousId": "a", "properties": {"n": NaN}}]}', "bad_json"),
        (b'{"batch": ' + b"[" * 5000 + b"]" * 5000 + b"}", "bad_json"),  # deeper than the parser goes
        (json.dumps({"batch": [{"a": {"b": {"c": {"d": {}}}}}]}).replace("{}", "[" * 40 + "]" * 40).encode(), None),
        (b'{"batch": {"not": "a list"}}', "bad_schema"),
        (gzip.compress(b" " * 5_000_000), "batch_too_large"),  # a gzip bomb
    ],
)
def test_bad_bodies_are_refused_clearly(chdb_warehouse, tmp_path, body, error):
    from tests.conftest import new_site

    site = new_site(chdb_warehouse)
    headers = {**auth(site["write_key"]), **({"Content-Encoding": "gzip"} if body[:2] == b"\x1f\x8b" else {})}
    response = make_app(chdb_warehouse, tmp_path).test_client().post("/v1/batch", data=body, headers=headers)
    assert 400 <= response.status_code < 500
    assert response.json["error"] == (error or "bad_schema")


@pytest.mark.process
def test_schema_breakers_are_quarantined_and_replayable(server_warehouse, clickhouse_server, tmp_path):
    from tests.conftest import new_site

    site = new_site(server_warehouse)
    app = make_app(server_warehouse, tmp_path)
    big = track(properties={"blob": "x" * 40_000})
    batch = [track(), {"type": "track", "anonymousId": "a"}, big, "not an object"]
    response = app.test_client().post("/v1/batch", json={"batch": batch}, headers=auth(site["write_key"]))
    assert response.status_code == 413 and response.json["accepted"] == 1
    Loader(server_warehouse, app.config["SPOOL_DIR"]).drain()
    held = quarantine.list_quarantined(server_warehouse, site["site_id"])
    assert sorted(h["reason"] for h in held) == ["bad_schema", "bad_schema", "message_too_large"]
    assert any(json.loads(h["raw"]) == big for h in held)

    url = ["--warehouse", clickhouse_server.url]
    listed = basirat(tmp_path, *url, "quarantine", "list", "--site", site["site_id"]).stdout
    assert "message_too_large" in listed and "track needs an event name" in listed
    # The sender's messages were fine after all: allow bigger ones, replay.
    out = basirat(
        tmp_path, *url, "quarantine", "replay", "--site", site["site_id"], env={"BASIRAT_MAX_MESSAGE_BYTES": "100000"}
    ).stdout
    assert "1 loaded" in out and "2 still rejected" in out
    ids = server_warehouse.query("SELECT message_id FROM events WHERE site_id = {s:String}", {"s": site["site_id"]})
    assert big["messageId"] in {r["message_id"] for r in ids} and len(ids) == 2
    assert len(quarantine.list_quarantined(server_warehouse, site["site_id"])) == 2
    again = basirat(tmp_path, *url, "quarantine", "replay", "--site", site["site_id"]).stdout
    assert again.startswith("0 loaded")
    app.extensions["basirat.collector"].spool.close()


def test_a_segment_closed_after_loading_is_not_read_again(chdb_warehouse, tmp_path):
    from collector.metrics import METRICS

    spool, loader = Spool(str(tmp_path)), Loader(chdb_warehouse, str(tmp_path))
    before = METRICS.snapshot()["counters"].get("duplicates_dropped", 0)
    rows = [{**r, "site_id": "s_rename", "message_id": uuid.uuid4().hex} for r in [_row()] * 3]
    spool.append(rows)
    assert loader.load_once() == 3
    spool.close()  # the writer renames its .open segment to .seg
    assert loader.load_once() == 0 and loader.pending_bytes() == 0
    assert METRICS.snapshot()["counters"].get("duplicates_dropped", 0) == before
    assert segments(str(tmp_path)) == []


def _row():
    from collector.pipeline import to_row

    now = dt.datetime(2026, 1, 1)
    config = {"MAX_FUTURE_SECONDS": 300, "ANONYMIZE_IP": True}
    return to_row(track(), "s_rename", now, "127.0.0.1", "test", config)


def test_events_whose_ids_were_not_recorded_load_once_after_a_restart(warehouse, tmp_path):
    """A process killed between the events' write and the view that records their ids leaves events
    the dedup lookup does not know: the first pass after a start looks among the events too."""
    from warehouse.queries import events
    from warehouse.queries.retention import wait_for_deletes

    site_id = "s_" + uuid.uuid4().hex[:12]
    rows = [{**_row(), "site_id": site_id, "message_id": uuid.uuid4().hex} for _ in range(5)]
    spool = Spool(str(tmp_path))
    spool.append(rows)
    spool.close()
    events.insert_events(warehouse, rows[:3])  # the killed process's insert, whose ids then go missing:
    warehouse.execute("ALTER TABLE event_ids DELETE WHERE site_id = {s:String}", {"s": site_id})
    wait_for_deletes(warehouse, timeout=60)
    assert events.known_message_ids(warehouse, site_id, [r["message_id"] for r in rows]) == set()
    assert Loader(warehouse, str(tmp_path)).drain() == 2
    assert events.count_events(warehouse, site_id) == 5


def test_a_large_batch_dedupes_beyond_the_server_query_limit(server_warehouse):
    from collector.loader import dedupe

    site_id = "s_" + uuid.uuid4().hex[:12]
    rows = [{"site_id": site_id, "message_id": f"{uuid.uuid4().hex}-{'m' * 60}"} for _ in range(12_000)]
    loaded = [row["message_id"] for row in rows[-300:]]
    server_warehouse.insert_columns(
        "event_ids",
        {"site_id": [site_id] * len(loaded), "message_id": loaded, "received_at": [dt.datetime(2026, 1, 1)] * 300},
    )
    # ~1.1 MB of ids, four times the server's largest statement, in one lookup
    assert dedupe(server_warehouse, rows + rows[:5]) == rows[:-300]


def test_bots_and_future_times_are_flagged_after_loading(chdb_warehouse, tmp_path):
    from tests.conftest import new_site

    site = new_site(chdb_warehouse)
    app = make_app(chdb_warehouse, tmp_path)
    headers = {**auth(site["write_key"]), "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}
    future = track(timestamp="2099-01-01T00:00:00Z")
    assert app.test_client().post("/v1/batch", json={"batch": [future]}, headers=headers).status_code == 200
    Loader(chdb_warehouse, app.config["SPOOL_DIR"]).drain()
    row = chdb_warehouse.query(
        "SELECT is_bot, flags, user_agent, timestamp < now() + 600 AS clamped FROM events WHERE site_id = {s:String}",
        {"s": site["site_id"]},
    )[0]
    assert row["is_bot"] == 1 and "Googlebot" in row["user_agent"]
    assert row["flags"] == ["future_timestamp_clamped"] and row["clamped"] == 1
    app.extensions["basirat.collector"].spool.close()


def test_a_skew_correction_before_1971_does_not_block_the_loader(warehouse, tmp_path):
    from tests.conftest import new_site

    site = new_site(warehouse)
    app = make_app(warehouse, tmp_path)
    odd = track(originalTimestamp="1971-01-02T00:00:00Z", sentAt="2105-01-01T00:00:00Z")
    # Year 1 one hour east of UTC is before anything datetime holds in UTC: it used to stop the loader.
    first = track(timestamp="0001-01-01T00:00:00+01:00")
    body = {"batch": [odd, first, track()]}
    response = app.test_client().post("/v1/batch", json=body, headers=auth(site["write_key"]))
    assert response.status_code == 200
    assert Loader(warehouse, app.config["SPOOL_DIR"]).drain() == 3
    rows = warehouse.query("SELECT flags FROM events WHERE site_id = {s:String} ORDER BY flags", {"s": site["site_id"]})
    assert [r["flags"] for r in rows] == [[], ["bad_timestamp"], ["bad_timestamp"]]
    app.extensions["basirat.collector"].spool.close()


def test_a_row_clickhouse_refuses_is_quarantined_not_retried_forever(server_warehouse, tmp_path):
    site_id = "s_" + uuid.uuid4().hex[:12]
    good, bad = {**_row(), "site_id": site_id}, {**_row(), "site_id": site_id}
    bad["timestamp"] = dt.datetime(1800, 1, 1)  # before what a DateTime column holds
    Spool(str(tmp_path)).append([good, bad])
    assert Loader(server_warehouse, str(tmp_path)).drain(timeout=60) == 1
    held = quarantine.list_quarantined(server_warehouse, site_id)
    assert [h["reason"] for h in held] == ["insert_failed"] and bad["message_id"] in held[0]["raw"]


def test_an_unexpected_failure_answers_json_500_and_accepts_nothing(chdb_warehouse, tmp_path, monkeypatch):
    from tests.conftest import new_site

    site = new_site(chdb_warehouse)
    app = make_app(chdb_warehouse, tmp_path)
    state = app.extensions["basirat.collector"]

    def broken(rows):
        raise RuntimeError("disk controller on fire")

    monkeypatch.setattr(state.spool, "append", broken)
    answer = app.test_client().post("/v1/batch", json={"batch": [track()]}, headers=auth(site["write_key"]))
    assert answer.status_code == 500
    assert answer.json == {"success": False, "error": "internal", "message": "internal error; nothing was accepted"}
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    monkeypatch.undo()
    state.spool.close()
    assert segments(str(tmp_path / "spool")) == []


@pytest.mark.process
def test_loader_once_loads_everything_with_progress(server_warehouse, clickhouse_server, tmp_path):
    """``basirat loader --once`` loads the whole spool, however many passes it takes, saying how far it is."""
    import os
    import subprocess
    import sys

    from tests.conftest import new_site

    site = new_site(server_warehouse)
    app = make_app(server_warehouse, tmp_path)
    client = app.test_client()
    for _ in range(15):
        batch = {"batch": [track() for _ in range(20)]}
        assert client.post("/v1/batch", json=batch, headers=auth(site["write_key"])).status_code == 200
    app.extensions["basirat.collector"].spool.close()
    env = {**os.environ, "BASIRAT_WAREHOUSE_URL": clickhouse_server.url, "BASIRAT_SPOOL_DIR": str(tmp_path / "spool"),
           "BASIRAT_LOADER_BATCH_ROWS": "40"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "basirat", "loader", "--once"], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "300 rows loaded"
    progress = [line for line in done.stderr.splitlines() if "rows loaded" in line]
    assert len(progress) >= 300 // 40 and progress[-1].startswith("300 rows loaded") and "0.0 MB left" in progress[-1]
    rows = server_warehouse.query("SELECT count() AS n FROM events WHERE site_id = {s:String}", {"s": site["site_id"]})
    assert rows[0]["n"] == 300


def test_rate_limiter_buckets_burst_and_refill():
    from collector.limits import RateLimiter

    limiter = RateLimiter(2, burst=5)
    assert [limiter.allow("ip-1") for _ in range(7)] == [True] * 5 + [False] * 2
    assert limiter.allow("ip-2")  # another key, another bucket
    time.sleep(0.6)  # a token back at 2 a second
    assert limiter.allow("ip-1")
    assert RateLimiter(0).allow("anyone") and RateLimiter(2).retry_after() == 1


def test_rate_limiter_buckets_are_shared_with_forked_processes():
    import os

    from collector.limits import RateLimiter, new_table

    buckets = new_table()
    child = os.fork()
    if child == 0:
        limiter = RateLimiter(0.001, burst=3, buckets=buckets)
        os._exit(0 if [limiter.allow("10.0.0.1") for _ in range(3)] == [True] * 3 else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    parent = RateLimiter(0.001, burst=3, buckets=buckets)
    assert not parent.allow("10.0.0.1") and parent.allow("10.0.0.2")


def test_rate_limiter_memory_is_fixed_and_a_new_key_takes_the_fullest_bucket():
    """Five keys of one set: the fifth evicts the bucket with tokens left, never a spent one."""
    from collector.limits import SETS, SLOT, WAYS, RateLimiter, _key_hash

    by_set: dict[int, list[str]] = {}
    n = 0
    while all(len(keys) <= WAYS for keys in by_set.values()):
        key = f"198.51.{n // 256}.{n % 256}"
        by_set.setdefault(_key_hash(key) % SETS, []).append(key)
        n += 1
    keys = next(keys for keys in by_set.values() if len(keys) > WAYS)
    spent, idle, newcomer = keys[: WAYS - 1], keys[WAYS - 1], keys[WAYS]
    limiter = RateLimiter(0.001, burst=2)
    for key in spent:
        assert [limiter.allow(key) for _ in range(3)] == [True, True, False]
    assert limiter.allow(idle)  # one token left: the fullest bucket of the set
    assert [limiter.allow(newcomer) for _ in range(3)] == [True, True, False]  # a full bucket of its own
    assert all(not limiter.allow(key) for key in spent)
    assert limiter.allow(idle) and limiter.allow(idle)  # evicted: it starts again from a full bucket
    assert len(limiter._table) == SETS * WAYS * SLOT.size


def test_a_loader_pass_pauses_the_cyclic_gc_and_restores_it():
    import gc

    from collector.loader import _gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with _gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("the warehouse went away")
    assert gc.isenabled()
    gc.disable()
    try:
        with _gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_open_segments_hold_exactly_their_records(chdb_warehouse, tmp_path, caplog):
    """Segments are zeroed ahead of their records; the zeros are neither
    pending bytes nor rows, and a dead writer's segment is cut to its records."""
    import os

    from collector.spool import encode, pending_bytes

    batches = [[{**_row(), "site_id": "s_zeroed", "message_id": uuid.uuid4().hex}] for _ in range(40)]
    pid = os.fork()
    if pid == 0:  # a writer that dies without closing its segment
        Spool(str(tmp_path)).append(batches[0])
        os._exit(0)
    os.waitpid(pid, 0)
    writer = Spool(str(tmp_path))
    for batch in batches[1:]:
        writer.append(batch)
    (open_segment,) = [p for p in tmp_path.iterdir() if p.suffix == ".open" and p.name.startswith(f"{os.getpid()}-")]
    written = sum(len(encode(batch)) for batch in batches)
    assert open_segment.stat().st_size > sum(len(encode(batch)) for batch in batches[1:])
    assert pending_bytes(str(tmp_path)) == written

    loader = Loader(chdb_warehouse, str(tmp_path))
    with caplog.at_level("WARNING"):
        assert loader.drain(timeout=30) == 40
    assert "torn" not in caplog.text
    assert pending_bytes(str(tmp_path)) == 0
    left = [p.suffix for p in tmp_path.iterdir() if p.suffix in (".seg", ".open")]
    assert left == [".open"]  # the dead writer's segment was loaded and deleted
    writer.close()
    assert loader.load_once() == 0 and segments(str(tmp_path)) == []


def test_a_pass_keeps_the_first_row_of_each_id_not_yet_loaded(chdb_warehouse):
    from collector.loader import dedupe_columns
    from tests.support.factories import row
    from warehouse.queries import events

    one, two = ("s_" + uuid.uuid4().hex[:12] for _ in range(2))
    when = dt.datetime(2026, 1, 1)
    events.insert_events(chdb_warehouse, [row(one, when, message_id="m1")])
    rows = [row(one, when, message_id=m, title=t) for m, t in (("m1", "a"), ("m2", "b"), ("m2", "c"))]
    rows += [row(two, when, message_id=m, title=t) for m, t in (("m1", "d"), ("m3", "e"))]
    fresh = dedupe_columns(chdb_warehouse, events.event_columns(rows))
    assert list(zip(fresh["site_id"], fresh["message_id"], fresh["title"])) == [
        (one, "m2", "b"),
        (two, "m1", "d"),
        (two, "m3", "e"),
    ]
    alone = events.event_columns(rows[1:2])
    assert dedupe_columns(chdb_warehouse, alone) is alone  # nothing to drop: the pass as it was
