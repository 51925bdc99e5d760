"""Events that landed behind an incremental job's high water.

The collector stamps ``received_at`` when it accepts an event and the loader
writes the row later, so a row can arrive with a receive time a job's last
run has already passed. Reading back ``LATE_EVENTS_MINUTES`` before the mark
on every run would catch such rows, but a job run every 15 minutes would then
read 75 minutes of events each time. So each run keeps a print of the rows
received in those minutes before its new mark (``late_prints``); the next run
prints the same span again and goes back over it only when the two differ.
Rows received further back than those minutes are not looked for.

A print is the sum of a hash of each distinct event (``message_id``,
``anonymous_id``, ``timestamp``, with its receive time): a row added or
removed changes it, and a row stored twice until the events table collapses
it counts once. Both prints of a run come from one statement, taken before
the run reads: a row loaded after it is in neither, so the next run's check
sees it.
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from warehouse.engine.connection import Warehouse

from .sessions import EPOCH
from .sessions import _naive_utc as _naive

_PRINTS = """
SELECT sumIf(h, received_at > {checked_from:DateTime('UTC')} AND received_at <= {checked_to:DateTime('UTC')})
           AS checked,
       sumIf(h, received_at > {kept_from:DateTime('UTC')} AND received_at <= {kept_to:DateTime('UTC')}) AS kept
FROM (
    SELECT DISTINCT cityHash64(message_id, anonymous_id, timestamp) AS h, received_at FROM events
    WHERE site_id = {site_id:String} AND received_at > {low:DateTime('UTC')}
)
"""


def stored(warehouse: Warehouse, site_id: str, job: str) -> tuple[dt.datetime, int] | None:
    """The high water and print the job's last run kept, or None."""
    rows = warehouse.query(
        "SELECT argMax(high_water, version) AS high_water, argMax(print, version) AS print FROM late_prints "
        "WHERE site_id = {site_id:String} AND job = {job:String} GROUP BY site_id",
        {"site_id": site_id, "job": job},
    )
    return (_naive(rows[0]["high_water"]), int(rows[0]["print"])) if rows else None


def window(
    warehouse: Warehouse,
    site_id: str,
    job: str,
    mark: dt.datetime | None,
    upto: dt.datetime,
    minutes: int,
    after: str | None = None,
) -> tuple[dt.datetime, int]:
    """``(since, print)``: where a run reads from (it reads receive times in ``(since, upto]``), and the
    print that ``keep`` stores with ``upto`` once the run is done.

    ``since`` is the job's ``mark`` when the rows received in the ``minutes``
    before it are those its last run printed, else ``minutes`` before it
    (a row arrived late, or no print was kept for that mark); ``EPOCH``
    without a mark.

    ``after`` names the job whose results this one reads with the events, up
    to that job's mark ``upto`` (the folded visits read the sessions job's
    visits). The print kept is then the one that job took at ``upto``: a row
    it had not seen yet was placed in a visit it did not have, so the next
    run reads that row again.
    """
    late = dt.timedelta(minutes=minutes)
    checked = mark if mark is not None else upto
    row = warehouse.query(
        _PRINTS,
        {
            "site_id": site_id,
            "checked_from": checked - late,
            "checked_to": checked,
            "kept_from": upto - late,
            "kept_to": upto,
            "low": min(checked, upto) - late,
        },
    )[0]
    kept = int(row["kept"])
    if after is not None:
        theirs = stored(warehouse, site_id, after)
        # No print of theirs at that mark: 0, which only an empty span prints, so the next run goes back.
        kept = theirs[1] if theirs is not None and theirs[0] == _naive(upto) else 0
    if mark is None:
        return EPOCH, kept
    before = stored(warehouse, site_id, job)
    on_time = before is not None and before[0] == _naive(mark) and before[1] == int(row["checked"])
    return (mark if on_time else mark - late), kept


def keep(warehouse: Warehouse, site_id: str, job: str, upto: dt.datetime, print_: int) -> None:
    """Store the print ``window`` gave with the mark the run set (``upto``)."""
    frame = pd.DataFrame({"site_id": [site_id], "job": [job], "high_water": [upto]})
    frame["high_water"] = pd.to_datetime(frame["high_water"], utc=True).dt.tz_localize(None).astype("datetime64[s]")
    frame["print"] = pd.Series([print_], dtype="uint64")
    frame["version"] = pd.Series([time.time_ns()], dtype="uint64")
    warehouse.insert("late_prints", frame)
