"""A large pass builds its rows in worker processes and loads them as one pass in the loader would."""

from __future__ import annotations

import datetime as dt

from collector import loader as loader_module
from collector.loader import Loader
from collector.records import request_record
from collector.spool import Spool
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


def test_workers_build_every_row_once(chdb_warehouse, tmp_path, monkeypatch):
    site = new_site(chdb_warehouse)
    monkeypatch.setattr(loader_module, "PARALLEL_ROWS", 10)
    config = {**settings.load(), "LOADER_WORKERS": 2}
    folder = str(tmp_path / "spool")
    _spool(folder, site["site_id"], 0, 6)
    _spool(folder, site["site_id"], 3, 6)  # half of it again: a client's re-send
    loader = Loader(chdb_warehouse, folder, batch_rows=100, config=config)
    try:
        assert loader.drain() == 9 * 20
        assert loader._pool is not None
    finally:
        loader.stop(drain=False)
    assert events.count_events(chdb_warehouse, site["site_id"]) == 9 * 20
    row = chdb_warehouse.query(
        "SELECT price, product_id, timestamp FROM events WHERE site_id = {s:String} AND message_id = 'm8-3'",
        {"s": site["site_id"]},
    )[0]
    assert (row["price"], row["product_id"], str(row["timestamp"])[:19]) == (12.5, "p3", "2026-11-01 10:00:00")
