"""A large pass over a server is loaded by worker processes, each message once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from collector import loader as loader_module
from collector import records
from collector.loader import Loader, _shares
from collector.records import request_record
from collector.spool import Spool, current, record_ends, segments
from core import settings
from tests.conftest import new_site
from warehouse.queries import events


def _spool(folder: str, site_id: str, first: int, requests: int) -> None:
    spool = Spool(folder)
    received = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    for r in range(requests):
        messages = [
            {"type": "track", "event": "Product Viewed", "anonymousId": f"v{r}", "messageId": f"m{first + r}-{i}",
             "properties": {"product_id": f"p{i}", "price": "12.5"}, "timestamp": "2026-11-01T10:00:00Z"}
            for i in range(20)
        ]  # fmt: skip
        spool.append([request_record(messages, site_id, received, "203.0.113.9", "Mozilla/5.0")])
    spool.close()


def test_shares_split_records_by_bytes_and_join_neighbours():
    # 60 bytes; each record goes to the share its middle byte falls in (0-29, 30-59).
    found = [("a", 0, 10), ("a", 10, 20), ("a", 20, 30), ("a", 30, 40), ("b", 0, 20)]
    assert _shares(found, 2) == [[("a", 0, 30)], [("a", 30, 40), ("b", 0, 20)]]
    assert _shares(found, 1) == [[("a", 0, 40), ("b", 0, 20)]]
    assert _shares(found[:1], 3) == [[("a", 0, 10)]]


def test_record_ends_stop_at_the_budget_and_at_a_torn_tail(tmp_path):
    folder = str(tmp_path / "spool")
    _spool(folder, "s", 0, 4)
    path = os.path.join(folder, segments(folder)[0])
    ends = record_ends(path, 0, 10**9)
    assert len(ends) == 4 and ends[-1] == os.path.getsize(path)
    assert record_ends(path, 0, 1) == ends[:1]
    assert record_ends(path, ends[1], 10**9) == ends[2:]
    with open(path, "r+b") as fh:
        fh.truncate(ends[-1] - 3)
    assert record_ends(path, 0, 10**9) == ends[:3]


def test_workers_load_every_row_once(server_warehouse, tmp_path, monkeypatch):
    site = new_site(server_warehouse)
    monkeypatch.setattr(loader_module, "PARALLEL_ROWS", 10)
    monkeypatch.setattr(loader_module, "ROW_BYTES", 1000)  # one pass: both segments, a worker each
    config = {**settings.load(), "LOADER_WORKERS": 2}
    folder = str(tmp_path / "spool")
    _spool(folder, site["site_id"], 0, 6)
    _spool(folder, site["site_id"], 3, 6)  # half of it again: a client's re-send, in the other share
    loader = Loader(server_warehouse, folder, batch_rows=100, config=config)
    try:
        assert loader.load_once() == 9 * 20  # in inserts of at most 100 rows
        assert loader._pool is not None
    finally:
        loader.stop(drain=False)
    assert loader._pool is None
    assert events.count_events(server_warehouse, site["site_id"]) == 9 * 20
    row = server_warehouse.query(
        "SELECT price, product_id, timestamp FROM events WHERE site_id = {s:String} AND message_id = 'm8-3'",
        {"s": site["site_id"]},
    )[0]
    assert (row["price"], row["product_id"], str(row["timestamp"])[:19]) == (12.5, "p3", "2026-11-01 10:00:00")
    assert segments(folder) == []  # every segment loaded and deleted


def test_a_backlog_loads_in_passes_handed_out_before_the_last_is_in(server_warehouse, tmp_path, monkeypatch):
    site = new_site(server_warehouse)
    monkeypatch.setattr(loader_module, "PARALLEL_ROWS", 10)
    monkeypatch.setattr(loader_module, "ROW_BYTES", 60)  # a pass of about two requests
    folder = str(tmp_path / "spool")
    _spool(folder, site["site_id"], 0, 10)
    _spool(folder, site["site_id"], 0, 2)  # the first pass's messages again, passes later
    loader = Loader(server_warehouse, folder, batch_rows=100, config={**settings.load(), "LOADER_WORKERS": 2})
    passes = []
    read = loader._worker_pass
    monkeypatch.setattr(loader, "_worker_pass", lambda positions: passes.append(dict(positions)) or read(positions))
    try:
        assert loader.load_once() == 10 * 20
    finally:
        loader.stop(drain=False)
    assert len(passes) >= 5
    assert events.count_events(server_warehouse, site["site_id"]) == 10 * 20
    assert segments(folder) == []  # the checkpoint reached the end of both segments


def test_a_worker_that_dies_loses_nothing(server_warehouse, tmp_path, monkeypatch):
    site = new_site(server_warehouse)
    monkeypatch.setattr(loader_module, "PARALLEL_ROWS", 10)
    monkeypatch.setattr(loader_module, "ROW_BYTES", 50)
    folder = str(tmp_path / "spool")
    _spool(folder, site["site_id"], 0, 6)
    loader = Loader(server_warehouse, folder, batch_rows=100, config={**settings.load(), "LOADER_WORKERS": 2})
    try:
        os.kill(next(iter(loader.start_workers()._processes)), signal.SIGKILL)
        time.sleep(0.5)
        with pytest.raises(BrokenProcessPool):
            loader.load_once()
        assert loader._pool is None and len(segments(folder)) == 1
        assert loader.drain() == 6 * 20
    finally:
        loader.stop(drain=False)
    assert events.count_events(server_warehouse, site["site_id"]) == 6 * 20


def test_a_segment_closed_since_the_pass_began_is_read_under_its_new_name(tmp_path):
    folder = tmp_path / "spool"
    folder.mkdir()
    (folder / "7-1.seg").write_bytes(b"")
    assert current(str(folder / "7-1.open")) == str(folder / "7-1.seg")
    (folder / "8-2.open").write_bytes(b"")
    assert current(str(folder / "8-2.open")) == str(folder / "8-2.open")


def test_a_retried_pass_quarantines_a_message_once():
    received = dt.datetime(2026, 12, 5, 6, 0, 0, 250000)
    item = request_record(
        [{"type": "track", "anonymousId": "a", "messageId": {"not": "an id"}}], "s", received, "203.0.113.9", "UA"
    )
    first, again = records.build([item], settings.load())[1], records.build([item], settings.load())[1]
    assert len(first) == 1 and first[0]["reason"] == "bad_schema"
    assert first[0]["quarantine_id"] == again[0]["quarantine_id"]
    other = request_record(
        [{"type": "track", "anonymousId": "b", "messageId": {"not": "an id"}}], "s", received, "203.0.113.9", "UA"
    )
    assert records.build([other], settings.load())[1][0]["quarantine_id"] != first[0]["quarantine_id"]


def test_an_embedded_warehouse_is_loaded_by_the_loader_itself(chdb_warehouse, tmp_path):
    loader = Loader(chdb_warehouse, str(tmp_path / "spool"), config={**settings.load(), "LOADER_WORKERS": 2})
    assert loader.workers == 1
