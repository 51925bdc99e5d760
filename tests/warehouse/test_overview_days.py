"""The dashboard's events per day are days of the site's time zone."""

from __future__ import annotations

import datetime as dt

from tests.support.factories import load, row
from warehouse.queries import overview


def test_events_per_day_in_the_sites_time_zone(warehouse, site):
    sid = site["site_id"]
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    evening = (now - dt.timedelta(days=3)).replace(hour=21, minute=0, second=0)  # 00:30 next day in Tehran
    load(warehouse, [row(sid, evening, message_id="late"), row(sid, evening - dt.timedelta(hours=12), message_id="a")])
    utc = {str(r["day"]): int(r["events"]) for r in overview.daily_events(warehouse, sid, 30)}
    tehran = {str(r["day"]): int(r["events"]) for r in overview.daily_events(warehouse, sid, 30, "Asia/Tehran")}
    assert utc == {evening.date().isoformat(): 2}
    assert tehran == {evening.date().isoformat(): 1, (evening.date() + dt.timedelta(days=1)).isoformat(): 1}
