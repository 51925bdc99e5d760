"""CSV exports: no text that a spreadsheet could run as a formula, wherever it splits a cell."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from activation.export import to_csv

FORMULA = ("=", "+", "-", "@", "\t", "\r")
SEPARATORS = [",", ";", "\t", "|", "\r", "\n"]


def cells(text: str) -> list[str]:
    return [row[0] for row in csv.reader(io.StringIO(text))][1:]


@pytest.mark.parametrize(
    "value",
    [
        "=HYPERLINK(1)",
        "x;=1+1",
        "x\t=1+1",
        "x,=1+1",
        "x|=cmd|' /C calc'!A0",
        "x\r\n@SUM(A1)",
        "ok; =1+1",
        "a;b;-2+3",
        "\t\t=1",
        " +1",
    ],
)
def test_no_piece_of_a_cell_reads_as_a_formula_after_any_separator(value):
    (written,) = cells(to_csv(pd.DataFrame({"person_id": [value]})))
    for separator in SEPARATORS:
        for piece in written.split(separator):
            assert not piece.lstrip(" ").startswith(FORMULA), (value, separator, piece)


@pytest.mark.parametrize("value", ["ok", "a-b", "user@example.com", "x;y", "1+1", "a, b"])
def test_ordinary_text_is_left_as_it_is(value):
    assert cells(to_csv(pd.DataFrame({"person_id": [value]}))) == [value]
