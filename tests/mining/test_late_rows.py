"""Incremental jobs read from their mark, and go back LATE_EVENTS_MINUTES only when rows landed behind it."""

import datetime as dt

from mining.sessions import sessionize_site
from tests.support.factories import T0, load, page
from warehouse.queries import late_rows, sessions

MINUTE = dt.timedelta(minutes=1)


def test_a_run_goes_back_only_when_a_row_landed_behind_the_mark(warehouse, site):
    sid = site["site_id"]
    b = page(sid, 20, "b")
    load(warehouse, [page(sid, 0, "a"), b])
    mark = T0 + 20 * MINUTE
    since, kept = late_rows.window(warehouse, sid, "job", None, mark, 60)
    assert since == late_rows.EPOCH
    late_rows.keep(warehouse, sid, "job", mark, kept)

    # Nothing behind the mark: the next run reads from it.
    load(warehouse, [page(sid, 30, "c")])
    assert late_rows.window(warehouse, sid, "job", mark, T0 + 30 * MINUTE, 60)[0] == mark
    # The same row stored twice, until the events table collapses it, is one event.
    load(warehouse, [b])
    assert late_rows.window(warehouse, sid, "job", mark, T0 + 30 * MINUTE, 60)[0] == mark

    # A row received 5 minutes before the mark, loaded after the run: go back.
    load(warehouse, [page(sid, 15, "late")])
    assert late_rows.window(warehouse, sid, "job", mark, T0 + 30 * MINUTE, 60)[0] == mark - 60 * MINUTE
    # A mark the print was not kept for (another job's, a run before prints were kept): go back.
    assert late_rows.window(warehouse, sid, "other", mark, T0 + 30 * MINUTE, 60)[0] == mark - 60 * MINUTE

    # Once a run has read it and kept its print, the next one reads from its mark again.
    upto = T0 + 30 * MINUTE
    since, kept = late_rows.window(warehouse, sid, "job", mark, upto, 60)
    late_rows.keep(warehouse, sid, "job", upto, kept)
    assert late_rows.window(warehouse, sid, "job", upto, upto, 60)[0] == upto


def test_the_sessions_job_recomputes_only_the_visits_new_events_touch(warehouse, site):
    sid = site["site_id"]
    load(warehouse, [page(sid, 0, "a"), page(sid, 1, "b")])
    assert sessionize_site(warehouse, sid)["visits"] == 2
    # Both visitors' events are within LATE_EVENTS_MINUTES of the mark; only c's are new.
    load(warehouse, [page(sid, 5, "c")])
    assert sessionize_site(warehouse, sid)["visits"] == 1
    # b's event received before the mark and loaded only now: b's visit is recomputed with it.
    load(warehouse, [page(sid, 2, "b", path="/late")])
    assert sessionize_site(warehouse, sid)["visits"] == 3  # every visitor of the last 60 minutes
    (visit,) = sessions.visits(warehouse, sid, ["b"])
    assert visit["pages"] == ["/", "/late"]


def test_the_folded_visits_read_again_a_row_the_sessions_job_had_not_seen(warehouse, site):
    """The visits are folded from the events with the sessions job's visits, up to its mark: a row
    loaded after the sessions run was placed without its own visit, so the next fold reads it again."""
    sid = site["site_id"]
    load(warehouse, [page(sid, 0, "a"), page(sid, 10, "a")])
    sessionize_site(warehouse, sid)
    mark = sessions.high_water(warehouse, sid, "sessions")
    load(warehouse, [page(sid, 5, "a", path="/late")])  # behind the sessions' mark, before the fold
    since, kept = late_rows.window(warehouse, sid, "visit_items", None, mark, 60, after="sessions")
    late_rows.keep(warehouse, sid, "visit_items", mark, kept)
    assert late_rows.window(warehouse, sid, "visit_items", mark, mark, 60, after="sessions")[0] == mark - 60 * MINUTE
