"""Bound parameters, rendered for each backend.

Statements carry ClickHouse's typed placeholders, ``{name:Type}``. chDB binds
them itself but wants each value as ClickHouse text; the native protocol of an
old server (18.16) has no server-side parameters, so for it the placeholder
becomes ``CAST(%(name)s AS Type)`` and clickhouse-driver escapes the value.
Either way no value is ever pasted into SQL by this project's code.
"""

from __future__ import annotations

import datetime as dt
import math
import re

PLACEHOLDER = re.compile(r"\{(\w+):([A-Za-z][\w(), ']*)\}")
INTEGER = re.compile(r"^U?Int\d+$")


def utc_text(value: dt.datetime) -> str:
    """A datetime as ClickHouse's DateTime text, in UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def clickhouse_text(value, nested: bool = False) -> str:
    """ClickHouse's text form of a parameter value (what chDB parses)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        text = utc_text(value)
        return _quote(text) if nested else text
    if isinstance(value, dt.date):
        return _quote(value.isoformat()) if nested else value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return "[" + ",".join(clickhouse_text(v, nested=True) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "NULL" if nested else "\\N"
    if nested:
        return _quote(str(value))
    # A top-level value is read in ClickHouse's escaped (TSV) form.
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def for_chdb(params: dict | None) -> dict:
    return {k: clickhouse_text(v) for k, v in (params or {}).items()}


def for_driver(sql: str, params: dict | None) -> tuple[str, dict]:
    """Rewrite placeholders into clickhouse-driver's escaped form."""

    def replace(match: re.Match) -> str:
        name, type_ = match.group(1), match.group(2)
        if type_ == "String" or INTEGER.match(type_):
            # Integers stay bare: old servers want a literal after LIMIT.
            return f"%({name})s"
        return f"CAST(%({name})s AS {type_})"

    integer_names = {m.group(1) for m in PLACEHOLDER.finditer(sql) if INTEGER.match(m.group(2))}
    values = {}
    for k, v in (params or {}).items():
        if k in integer_names:
            v = int(v)
        if isinstance(v, dt.datetime):
            v = utc_text(v)
        elif isinstance(v, (set, tuple)):
            v = list(v)
        values[k] = v
    # The driver applies Python %-formatting, so literal percent signs
    # (LIKE patterns) are doubled first.
    return PLACEHOLDER.sub(replace, sql.replace("%", "%%")), values
