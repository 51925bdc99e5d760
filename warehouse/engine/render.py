"""Text formats for operators, rendered the same way on every backend.

The native protocol carries no text formats, so rather than having two
slightly different CSVs, both backends fetch typed rows and render them here.
"""

from __future__ import annotations

import datetime as dt
import json
import math


def _plain(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_nested(v) for v in value) + "]"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        # ClickHouse prints whole floats without a fraction (4, not 4.0).
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _nested(value) -> str:
    if isinstance(value, (str, dt.date)):
        text = _plain(value)
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return _plain(value)


def _csv(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) or value is None:
        return _plain(value)
    return '"' + _plain(value).replace('"', '""') + '"'


def _tsv(value) -> str:
    text = _plain(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n") if value is not None else text


def _json(value):
    if isinstance(value, (dt.datetime, dt.date)):
        return _plain(value)
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    return value


def _pretty(names: list[str], rows: list, compact: bool) -> str:
    cells = [[_plain(v) for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    top = "┌" + "┬".join("─" + n + "─" * (w - len(n) + 1) for n, w in zip(names, widths)) + "┐"
    sep = "├" + "┼".join("─" * (w + 2) for w in widths) + "┤"
    bottom = "└" + "┴".join("─" * (w + 2) for w in widths) + "┘"
    lines = [top]
    for i, row in enumerate(cells):
        if i and not compact:
            lines.append(sep)
        lines.append("│" + "│".join(" " + c.ljust(w) + " " for c, w in zip(row, widths)) + "│")
    lines.append(bottom)
    return "\n".join(lines) + "\n"


def render(names: list[str], types: list[str], rows: list, fmt: str) -> str:
    if fmt in ("CSV", "CSVWithNames"):
        head = [",".join(_csv(n) for n in names)] if fmt == "CSVWithNames" else []
        return "".join(line + "\n" for line in head + [",".join(_csv(v) for v in row) for row in rows])
    if fmt in ("TSV", "TSVWithNames"):
        head = ["\t".join(names)] if fmt == "TSVWithNames" else []
        return "".join(line + "\n" for line in head + ["\t".join(_tsv(v) for v in row) for row in rows])
    if fmt == "JSONEachRow":
        return "".join(json.dumps({n: _json(v) for n, v in zip(names, row)}, ensure_ascii=False) + "\n" for row in rows)
    if fmt in ("PrettyCompact", "Pretty"):
        return _pretty(names, rows, compact=fmt == "PrettyCompact") if names else ""
    raise ValueError(fmt)
