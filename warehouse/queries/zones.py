"""Site time zones as the queries take them: a whitelisted IANA name, bound as a parameter.

A site's day runs from its local midnight to the next; stored times are UTC.
ClickHouse dates a time in a zone with ``toTimeZone(t, {timezone:String})``,
so only names from this machine's zone database are let through.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones


@lru_cache(maxsize=1)
def zones() -> frozenset[str]:
    """Every IANA time zone name this machine knows: the only names a query accepts."""
    return frozenset(available_timezones() | {"UTC"})


def check_zone(timezone: str) -> str:
    if timezone not in zones():
        raise ValueError(f"{timezone!r} is not a time zone name (like Asia/Tehran or UTC)")
    return timezone


def midnight(day: dt.date, timezone: str) -> dt.datetime:
    """The UTC time (naive) at which ``day`` begins in ``timezone``."""
    local = dt.datetime.combine(day, dt.time(), ZoneInfo(check_zone(timezone)))
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def today(timezone: str) -> dt.date:
    """The date it is now in ``timezone``."""
    return dt.datetime.now(ZoneInfo(check_zone(timezone))).date()
