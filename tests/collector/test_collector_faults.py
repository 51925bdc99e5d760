"""Faults under a steady load, with the production processes.

``basirat collector`` (gunicorn, two workers, spool only) and ``basirat
loader`` run against a ClickHouse server of this module's own, which the
tests kill and restart. In each case: every event answered 200 is in
ClickHouse exactly once, and no answer is a 5xx other than the spool's 503.
"""

import os
import random
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import new_site, require
from tests.support.load import CollectorProcess, LoaderProcess, make_batches, message_ids, send
from tests.support.servers import ClickHouseServer, server_binary
from warehouse import connect
from warehouse.engine.migrate import migrate

pytestmark = [pytest.mark.process, pytest.mark.server]  # its own clickhouse-server


@pytest.fixture(scope="module")
def killable_server(tmp_path_factory):
    require(server_binary() is not None, "clickhouse-server")
    server = ClickHouseServer(tmp_path_factory.mktemp("killable-clickhouse")).start()
    wh = connect(server.url)
    migrate(wh)
    wh.close()
    yield server
    server.stop()


@pytest.fixture
def site(killable_server):
    wh = connect(killable_server.url)
    yield new_site(wh)
    wh.close()


@pytest.fixture
def processes(killable_server, tmp_path):
    started = []

    def start(kind, **kwargs):
        process = kind(killable_server.url, tmp_path / "spool", **kwargs).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def stored(server, site_id: str, expected: int, timeout: float = 60.0) -> tuple[int, set[str]]:
    """(rows, distinct message ids) of the site once ``expected`` ids are there or time is up."""
    deadline = time.monotonic() + timeout
    while True:
        wh = connect(server.url)
        try:
            rows = wh.query("SELECT message_id FROM events WHERE site_id = {s:String}", {"s": site_id})
        finally:
            wh.close()
        ids = {r["message_id"] for r in rows}
        if len(ids) >= expected or time.monotonic() > deadline:
            return len(rows), ids
        time.sleep(0.3)


def acknowledged(batches, statuses) -> set[str]:
    return message_ids(b for b, status in zip(batches, statuses) if status == 200)


def no_server_errors(statuses) -> None:
    assert all(s == 200 or (isinstance(s, tuple) and s[0] == 503) or s == "error" for s in statuses), statuses


def test_clickhouse_killed_during_load(killable_server, site, processes):
    collector = processes(CollectorProcess)
    processes(LoaderProcess)
    batches = make_batches(240)
    statuses = send(collector.url, site["write_key"], batches[:80])
    assert len(stored(killable_server, site["site_id"], 80 * 20)[1]) == 80 * 20  # the loader is running
    killable_server.kill()
    statuses += send(collector.url, site["write_key"], batches[80:160])
    time.sleep(2)  # the loader retries against a dead server meanwhile
    killable_server.start()
    statuses += send(collector.url, site["write_key"], batches[160:])
    assert statuses == [200] * len(batches)  # ClickHouse down is not the client's problem
    rows, ids = stored(killable_server, site["site_id"], len(batches) * 20)
    assert ids == acknowledged(batches, statuses) and rows == len(ids)
    with urllib.request.urlopen(collector.url + "/metrics", timeout=5) as response:
        metrics = response.read().decode()
    errors = [line for line in metrics.splitlines() if line.startswith("basirat_loader_errors_total")]
    assert float(errors[0].split()[-1]) > 0  # the loader did meet the dead server, and recovered


def test_collector_killed_mid_load(killable_server, site, processes, tmp_path):
    collector = processes(CollectorProcess)
    processes(LoaderProcess)
    batches = make_batches(600)
    first: list = [None] * len(batches)
    sender = threading.Thread(target=send, args=(collector.url, site["write_key"], batches), kwargs={"results": first})
    sender.start()
    deadline = time.monotonic() + 30
    while sum(s is not None for s in first) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    collector.kill()  # SIGKILL: master and workers, requests in flight
    sender.join()
    no_server_errors(first)
    # The client retries what was not acknowledged, as Segment's libraries do.
    collector = processes(CollectorProcess, port=collector.port)
    retry = [i for i, s in enumerate(first) if s != 200]
    again = send(collector.url, site["write_key"], [batches[i] for i in retry])
    assert again == [200] * len(retry)
    rows, ids = stored(killable_server, site["site_id"], len(batches) * 20)
    assert ids == message_ids(batches) and rows == len(ids)
    assert 0 < len(retry) < len(batches)  # the kill landed mid-load


def test_resent_batches_are_stored_once(killable_server, site, processes):
    collector = processes(CollectorProcess)
    processes(LoaderProcess)
    batches = make_batches(200)
    resent = random.Random(4).sample(batches, 20)  # 10%, some while the first copies are in flight
    statuses = send(collector.url, site["write_key"], batches[:150] + resent[:10] + batches[150:] + resent[10:])
    assert statuses == [200] * len(statuses)
    rows, ids = stored(killable_server, site["site_id"], len(batches) * 20)
    assert ids == message_ids(batches) and rows == len(ids)


def test_full_spool_answers_503_and_loses_nothing(killable_server, site, processes):
    collector = processes(CollectorProcess, env={"BASIRAT_SPOOL_MAX_BYTES": "150000"})
    batches = make_batches(120)
    statuses = send(collector.url, site["write_key"], batches, threads=2)
    no_server_errors(statuses)
    full = [s for s in statuses if s != 200]
    assert full and all(s[0] == 503 and int(s[1]) > 0 for s in full)
    processes(LoaderProcess)
    accepted = acknowledged(batches, statuses)
    rows, ids = stored(killable_server, site["site_id"], len(accepted))
    assert ids == accepted and rows == len(ids)
    # Drained, the collector takes events again.
    time.sleep(1.2)
    later = make_batches(3)
    assert send(collector.url, site["write_key"], later) == [200] * 3


def test_embedded_server_killed_mid_load(tmp_path):
    """The same with ``basirat serve`` (one process: collector, loader and chDB) SIGKILLed."""
    import json
    import signal

    from tests.support.live import LiveServer, basirat

    env = {"BASIRAT_IP_RATE_LIMIT": "0", "BASIRAT_SITE_RATE_LIMIT": "0"}
    site = json.loads(basirat(tmp_path, "sites", "create", "Killed shop", "--json").stdout)
    live = LiveServer(tmp_path, env=env).start()
    batches = make_batches(400)
    first: list = [None] * len(batches)
    sender = threading.Thread(target=send, args=(live.url, site["write_key"], batches), kwargs={"results": first})
    sender.start()
    deadline = time.monotonic() + 30
    while sum(s is not None for s in first) < 150 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(live.process.pid, signal.SIGKILL)
    live.process.wait(timeout=10)
    live.stop()
    sender.join()
    no_server_errors(first)
    live = LiveServer(tmp_path, env=env).start()
    try:
        retry = [i for i, s in enumerate(first) if s != 200]
        assert send(live.url, site["write_key"], [batches[i] for i in retry]) == [200] * len(retry)
        query = "SELECT count() AS n, uniqExact(message_id) AS u FROM events WHERE site_id = '%s'" % site["site_id"]
        rows = live.wait_for(query, lambda r: r and int(r[0]["u"]) >= len(batches) * 20, timeout=60)
        assert int(rows[0]["n"]) == int(rows[0]["u"]) == len(batches) * 20
        assert 0 < len(retry) < len(batches)
    finally:
        live.stop()


def test_bodies_without_content_length_over_real_http(killable_server, site, processes):
    """gunicorn de-chunks a chunked body (gzip too); a body with neither length nor chunking reads as empty."""
    import gzip
    import http.client
    import json

    collector = processes(CollectorProcess)
    loader = processes(LoaderProcess)
    batches = make_batches(2)
    bodies = [json.dumps({"writeKey": site["write_key"], "batch": batch}).encode() for batch in batches]

    def post(body: bytes, headers: dict, chunks: list[bytes] | None = None) -> tuple[int, dict, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=10)
        try:
            connection.putrequest("POST", "/v1/batch", skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            for chunk in chunks or [body]:
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunks else chunk)
            if chunks:
                connection.send(b"0\r\n\r\n")
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), json.loads(response.read())
        finally:
            connection.close()

    plain = bodies[0]
    status, headers, answer = post(plain, {"Transfer-Encoding": "chunked", "Origin": "https://shop.example"},
                                   [plain[:100], plain[100:5000], plain[5000:]])  # fmt: skip
    assert (status, answer) == (200, {"success": True})
    assert headers["Access-Control-Allow-Origin"] == "https://shop.example"
    packed = gzip.compress(bodies[1])
    status, _, answer = post(packed, {"Transfer-Encoding": "chunked", "Content-Encoding": "gzip"}, [packed])
    assert (status, answer) == (200, {"success": True})
    status, _, answer = post(b"", {"Connection": "close"})
    assert (status, answer["error"]) == (400, "bad_json")
    rows, ids = stored(killable_server, site["site_id"], 40)
    assert rows == 40 and ids == message_ids(batches)
    assert loader.process.poll() is None


def worker_pids(collector) -> list[int]:
    """The gunicorn workers of a collector process: its master's children."""
    master = collector.process.pid
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def test_collector_workers_are_spread_over_the_cores(processes):
    """Each worker is kept on one core, evenly; a worker that replaces a killed one takes its core."""
    import signal

    def workers() -> dict[int, set[int]]:
        return {pid: os.sched_getaffinity(pid) for pid in worker_pids(collector)}

    def spread(cores: dict[int, set[int]]) -> bool:
        counts = [sum(c == {core} for c in cores.values()) for core in os.sched_getaffinity(0)]
        return all(len(c) == 1 for c in cores.values()) and max(counts) - min(counts) <= 1

    collector = processes(CollectorProcess)
    before = workers()
    assert len(before) == 2 and spread(before), before
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        after = workers()
        if len(after) == 2 and victim not in after:
            break
        time.sleep(0.1)
    assert len(after) == 2 and victim not in after and spread(after), after
    (new,) = set(after) - set(before)
    assert after[new] == before[victim]


def test_rate_limits_hold_across_the_workers(site, processes):
    """Both gunicorn workers take from one bucket: a client gets the configured rate, not twice it.

    Each worker in turn is stopped (SIGSTOP) so that the other one accepts
    every connection: half the requests go to each worker.
    """
    import base64
    import http.client
    import json
    import signal

    collector = processes(CollectorProcess, env={"BASIRAT_IP_RATE_LIMIT": "10"})
    workers = worker_pids(collector)
    assert len(workers) == 2, workers
    headers = {"Authorization": "Basic " + base64.b64encode(f"{site['write_key']}:".encode()).decode(),
               "Content-Type": "application/json"}  # fmt: skip
    body = json.dumps(make_batches(1, size=1)[0][0])
    statuses: list[int] = []

    def post(count: int) -> None:
        for _ in range(count):
            connection = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=10)
            try:
                connection.request("POST", "/v1/track", body, headers)
                statuses.append(connection.getresponse().status)
            finally:
                connection.close()

    started = time.monotonic()
    for paused in workers:
        os.kill(paused, signal.SIGSTOP)
        try:
            post(30)
        finally:
            os.kill(paused, signal.SIGCONT)
    elapsed = time.monotonic() - started
    assert len(statuses) == 60 and set(statuses) <= {200, 429}, statuses
    # A burst of 10, plus what refills while sending, plus a request or two
    # that both workers may pass at the same instant.
    assert 10 <= statuses.count(200) <= 10 + 10 * elapsed + 2, (statuses.count(200), elapsed)
    time.sleep(1.5)  # each worker writes its counts at most once a second
    counts = {p.stem: json.loads(p.read_text()) for p in (collector.spool / "metrics").glob("*.json")}
    served = {pid for pid, c in counts.items() if c["counters"].get("accepted") or c["rejected"].get("rate_limited")}
    assert served == {str(pid) for pid in workers}, counts
