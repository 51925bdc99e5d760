"""Jalali and Gregorian months, parsing and the site's today."""

from __future__ import annotations

import datetime as dt

import pytest

from core import calendars


def test_this_jalali_month_runs_from_the_first_of_the_persian_month():
    # 1405-01-01 (Nowruz) is 2026-03-21; Farvardin has 31 days.
    assert calendars.month_range(dt.date(2026, 4, 5), "jalali") == (dt.date(2026, 3, 21), dt.date(2026, 4, 20))
    assert calendars.month_range(dt.date(2026, 4, 5), "gregorian") == (dt.date(2026, 4, 1), dt.date(2026, 4, 30))


def test_esfand_of_a_leap_year_has_thirty_days():
    start, end = calendars.month_range(dt.date(2025, 3, 1), "jalali")  # Esfand 1403, a leap year
    assert (start, end) == (dt.date(2025, 2, 19), dt.date(2025, 3, 20))
    assert calendars.parts(end, "jalali") == (1403, 12, 30)


def test_month_starts_cover_the_span():
    starts = calendars.month_starts(dt.date(2026, 3, 1), dt.date(2026, 5, 1), "jalali")
    assert [calendars.iso(s, "jalali") for s in starts] == ["1404-12-01", "1405-01-01", "1405-02-01"]


@pytest.mark.parametrize(
    ("text", "calendar", "day"),
    [
        ("1405-01-01", "jalali", dt.date(2026, 3, 21)),
        ("۱۴۰۵/۰۱/۱۵", "jalali", dt.date(2026, 4, 4)),
        ("2026-03-21", "gregorian", dt.date(2026, 3, 21)),
    ],
)
def test_parse_in_the_sites_calendar(text, calendar, day):
    assert calendars.parse(text, calendar) == day
    assert calendars.parse(calendars.iso(day, calendar), calendar) == day


@pytest.mark.parametrize("text", ["", "yesterday", "1405-13-01", "2026-02-30"])
def test_parse_refuses_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        calendars.parse(text, "jalali" if text.startswith("14") else "gregorian")


def test_today_is_the_sites_day():
    late = dt.datetime(2026, 3, 20, 22, 0, tzinfo=dt.timezone.utc)  # 01:30 on the 21st in Tehran
    assert calendars.today("Asia/Tehran", late) == dt.date(2026, 3, 21)
    assert calendars.today("UTC", late) == dt.date(2026, 3, 20)
    assert calendars.local(dt.datetime(2026, 3, 20, 22, 0), "Asia/Tehran").hour == 1


def test_settings_are_checked():
    assert calendars.check_timezone("Asia/Tehran") == "Asia/Tehran"
    with pytest.raises(ValueError):
        calendars.check_timezone("Mars/Olympus")
    with pytest.raises(ValueError):
        calendars.check_calendar("lunar")
