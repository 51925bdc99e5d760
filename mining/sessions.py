"""The sessionization job: visits computed where the events are.

The heavy lifting is one ``INSERT … SELECT`` in ClickHouse (see
``warehouse.queries.sessions``); this wrapper decides which slice of events is new for
each site and moves the site's high-water mark once the slice is written.
"""

from __future__ import annotations

import math
import time
from typing import Callable

from warehouse.queries import late_rows, sites
from warehouse.queries import mining as mining_store
from warehouse.queries import sessions as store

JOB = "sessions"
# Events a full run reads per part (by a hash of the visitor), bounding its memory.
PART_EVENTS = 1_000_000


def sessionize_site(
    warehouse, site_id: str, timeout_minutes: int = 30, late_minutes: int = 60, full: bool = False
) -> dict:
    """Recompute the visits of one site touched since its last run.

    Events are picked by receive time, going back ``late_minutes`` when rows
    that sat in the spool a while arrived behind the last mark (``late_rows``);
    recomputing a visit is idempotent, so going back costs time, never correctness.
    """
    upto = store.event_window(warehouse, site_id)
    if upto is None:
        return {"site_id": site_id, "visits": 0}
    mark = None if full else store.high_water(warehouse, site_id, JOB)
    since, print_ = late_rows.window(warehouse, site_id, JOB, mark, upto, late_minutes)
    version = time.time_ns()
    parts = 1 if mark else max(1, math.ceil(mining_store.site_event_count(warehouse, site_id) / PART_EVENTS))
    written = store.sessionize(warehouse, site_id, since, upto, timeout_minutes, version, parts)
    store.set_high_water(warehouse, site_id, JOB, upto, version)
    late_rows.keep(warehouse, site_id, JOB, upto, print_)
    return {"site_id": site_id, "visits": written}


def run_sessions(
    warehouse,
    progress: Callable[[str], None] = print,
    timeout_minutes: int = 30,
    late_minutes: int = 60,
    full: bool = False,
    only=None,
) -> dict:
    total = 0
    for site in sites.list_sites(warehouse, only):
        result = sessionize_site(warehouse, site["site_id"], timeout_minutes, late_minutes, full)
        total += result["visits"]
        progress(f"sessions: {site['site_id']}: {result['visits']} visits recomputed")
    return {"visits": total}
