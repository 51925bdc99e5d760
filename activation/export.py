"""CSV export of segments and audiences, safe to open in a spreadsheet.

Person ids and other tracked values are attacker-controlled: a cell starting
with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) would run as a
formula in a spreadsheet. A spreadsheet may also split a text cell on a
separator of its own (``;`` in many locales, a tab, ``|``, a line break), so
the same holds for whatever follows any separator inside the cell. Each such
place gets an apostrophe before the formula sign (after any blanks), which a
spreadsheet reads as "this is text".
"""

from __future__ import annotations

import io
import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = ",;\t|\r\n"
# the cell's start or a separator, blanks, then a formula sign
_FORMULA = re.compile(r"(^|[" + re.escape(SEPARATORS) + r"])( *)(?=[" + re.escape("".join(FORMULA_START)) + "])")


def defuse(value):
    if isinstance(value, str):
        return _FORMULA.sub(r"\1\2'", value)
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
