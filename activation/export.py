"""CSV export of segments and audiences, safe to open in a spreadsheet.

Person ids and other tracked values are attacker-controlled: a cell starting
with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) would run as a
formula in a spreadsheet, so such text cells get a leading apostrophe.
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(frame: pd.DataFrame) -> str:
    """The frame as CSV with a header.

    Text cells are defused, times written as ``YYYY-MM-DD HH:MM:SS`` and numbers
    to 10 significant digits (sums of prices print as 12288.22, not 12288.220000000001).
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = pd.to_datetime(out[column], utc=True).dt.strftime("%Y-%m-%d %H:%M:%S")
        elif pd.api.types.is_object_dtype(out[column]) or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(defuse)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n", float_format="%.10g")
    return buffer.getvalue()
