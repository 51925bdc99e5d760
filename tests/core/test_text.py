"""Search folding: Arabic and Persian letter variants, digits and joiners meet in one form."""

from __future__ import annotations

import pytest

from core.text import fold, matches, persian_digits


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("كيف", "کیف"),  # Arabic kaf and yeh against Persian keheh and yeh
        ("كيف چرمي", "کیف چرمی"),
        ("۱۲۳", "123"),  # Persian digits
        ("١٢٣", "123"),  # Arabic-Indic digits
        ("میخواهم", "می\u200cخواهم"),  # with and without the zero-width non-joiner
        ("خانه", "خانة"),
        ("ﻛﺘﺎﺏ", "کتاب"),  # presentation forms, as some old systems store text
        ("كِتاب", "کتاب"),  # a short-vowel mark
        ("Leather  BAG", "leather bag"),
    ],
)
def test_what_is_typed_folds_like_what_was_stored(typed, stored):
    assert fold(typed) == fold(stored)


def test_fold_keeps_what_differs():
    assert fold("کیف") != fold("کیک")
    assert fold("12") != fold("21")
    assert fold("") == "" and fold(None) == ""


def test_matches_every_word_anywhere():
    assert matches("كيف", "کیف دستی چرمی")
    assert matches("چرمي كيف", "کیف دستی چرمی")
    assert not matches("کفش", "کیف دستی چرمی")
    assert not matches("  ", "anything")


def test_persian_digits_for_display():
    assert persian_digits("1,234.5 EUR") == "۱,۲۳۴.۵ EUR"
    assert fold(persian_digits("2026")) == "2026"
