"""How the profile words a visit's length and how long ago something was."""

import datetime as dt

from webapp.visitors import days_between, split_duration


def test_a_visit_of_35_seconds_is_not_zero_minutes():
    assert split_duration(35) == (0, 0, 35)
    assert split_duration(125) == (0, 2, 5)
    assert split_duration(3 * 3600 + 61) == (3, 1, 1)
    assert split_duration(None) == (0, 0, 0)


def test_days_ago_counts_calendar_days():
    now = dt.datetime(2026, 5, 10, 0, 30)
    assert days_between(dt.datetime(2026, 5, 9, 23, 50), now) == 1
    assert days_between(dt.datetime(2026, 5, 10, 0, 1), now) == 0
    assert days_between(dt.datetime(2026, 4, 10, 12, 0, tzinfo=dt.timezone.utc), now) == 30
    assert days_between(None, now) == 0
