"""The event log reads newest first from the smallest recent window that holds the page, with the same rows."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.factories import load, row
from warehouse.queries import event_log, events

AGES = {"m2h": dt.timedelta(hours=2), "m3d": dt.timedelta(days=3), "m20d": dt.timedelta(days=20)}
AGES["m200d"] = dt.timedelta(days=200)


class Recording:
    def __init__(self, wh):
        self.wh, self.windows = wh, []

    def query(self, sql, params=None):
        self.windows.append(params.get("window_days") if "window_days" in sql else None)
        return self.wh.query(sql, params)


@pytest.fixture
def aged(warehouse, site):
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    load(warehouse, [row(site["site_id"], now - age, message_id=mid) for mid, age in AGES.items()])
    return warehouse, site["site_id"]


@pytest.mark.parametrize(
    "limit, offset, windows",
    [
        (1, 0, [1]),
        (2, 0, [1, 7]),
        (3, 0, [1, 7, 31]),
        (2, 1, [1, 7, 31]),
        (4, 0, [1, 7, 31, None]),
        (9, 0, [1, 7, 31, None]),
    ],
)
def test_a_page_reads_the_smallest_window_that_holds_it(aged, limit, offset, windows):
    wh, site_id = aged
    recording = Recording(wh)
    rows = event_log.page(recording, site_id, limit, offset)
    assert [r["message_id"] for r in rows] == list(AGES)[offset : offset + limit]
    assert recording.windows == windows


def test_recent_events_are_the_newest(aged):
    wh, site_id = aged
    assert [r["message_id"] for r in events.recent_events(wh, site_id, limit=3)] == ["m2h", "m3d", "m20d"]
