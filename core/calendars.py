"""Calendars a site can show its dates in: Gregorian or Jalali (the Iranian solar calendar).

Stored times stay UTC. A site's calendar decides where its months begin and
end (the KPI range "this month", cohort months) and how dates are written;
its time zone decides which day "today" is. Jalali arithmetic is jdatetime's.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import jdatetime

from .text import fold

CALENDARS = ("gregorian", "jalali")


def check_calendar(name: str) -> str:
    if name not in CALENDARS:
        raise ValueError(f"{name!r} is not a calendar (one of {', '.join(CALENDARS)})")
    return name


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone (Asia/Tehran, Europe/Paris, UTC); ValueError otherwise.

    The names of ``timezones()`` only (not files such as ``posixrules`` that ZoneInfo would also
    read): the warehouse's queries accept exactly these (``warehouse.queries.zones``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{name!r} is not a time zone name (like Asia/Tehran or UTC)") from None
    if name not in _zone_names():
        raise ValueError(f"{name!r} is not a time zone name (like Asia/Tehran or UTC)")
    return name


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


def timezones() -> list[str]:
    return sorted(_zone_names())


def today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """The date it is now in ``timezone``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(ZoneInfo(timezone)).date()


def local(moment: dt.datetime, timezone: str) -> dt.datetime:
    """A stored time (UTC, naive or aware) as the wall-clock time in ``timezone``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(timezone))


def month_start(day: dt.date, calendar: str) -> dt.date:
    """The first day (as a Gregorian date) of the month that holds ``day`` in ``calendar``."""
    if calendar == "jalali":
        j = jdatetime.date.fromgregorian(date=day)
        return jdatetime.date(j.year, j.month, 1).togregorian()
    return day.replace(day=1)


def next_month_start(day: dt.date, calendar: str) -> dt.date:
    """The first day of the month after the one that holds ``day``."""
    start = month_start(day, calendar)
    return month_start(start + dt.timedelta(days=32), calendar)


def month_range(day: dt.date, calendar: str) -> tuple[dt.date, dt.date]:
    """First and last day of the month that holds ``day`` (inclusive, Gregorian dates)."""
    return month_start(day, calendar), next_month_start(day, calendar) - dt.timedelta(days=1)


def month_starts(first: dt.date, last: dt.date, calendar: str) -> list[dt.date]:
    """The starts of every month from the one holding ``first`` to the one holding ``last``."""
    starts = [month_start(first, calendar)]
    while starts[-1] <= last:
        starts.append(next_month_start(starts[-1], calendar))
    return starts[:-1]


def parts(day: dt.date, calendar: str) -> tuple[int, int, int]:
    """(year, month, day) of ``day`` in ``calendar``."""
    if calendar == "jalali":
        j = jdatetime.date.fromgregorian(date=day)
        return j.year, j.month, j.day
    return day.year, day.month, day.day


def iso(day: dt.date, calendar: str) -> str:
    """``YYYY-MM-DD`` in ``calendar`` (what date fields hold on a Jalali site)."""
    return "{:04d}-{:02d}-{:02d}".format(*parts(day, calendar))


_DATE = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")


def parse(text: str, calendar: str) -> dt.date:
    """A date typed in ``calendar`` as YYYY-MM-DD or YYYY/MM/DD, in any digits; ValueError otherwise."""
    match = _DATE.match(fold(text or ""))
    if not match:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
    year, month, day = (int(g) for g in match.groups())
    if calendar == "jalali":
        return jdatetime.date(year, month, day).togregorian()
    return dt.date(year, month, day)
