"""Numbers, money and dates per locale: separators, Persian digits, tomans, Jalali dates."""

from __future__ import annotations

import datetime as dt

from core import locales


def test_numbers_use_the_locales_separators_and_digits():
    assert locales.number(1234567, "en") == "1,234,567"
    assert locales.number(1234567, "fa") == "۱٬۲۳۴٬۵۶۷"
    assert locales.number(1234.5, "fa", 2) == "۱٬۲۳۴٫۵۰"
    assert locales.percent(0.125, "en", 1) == "12.5%"
    assert locales.percent(0.125, "fa", 1).startswith("۱۲٫۵")
    assert locales.number(None, "fa") == "–"


def test_money_in_the_sites_currency_and_unit():
    assert locales.money(1234.5, "en", "EUR") == "€1,234.50"
    assert locales.money(1_250_000, "fa", "IRR", "toman") == "۱۲۵٬۰۰۰ تومان"
    assert locales.money(1_250_000, "en", "IRR", "toman") == "125,000 toman"
    assert "۱٬۲۵۰٬۰۰۰" in locales.money(1_250_000, "fa", "IRR", "rial")
    assert locales.money(12.5, "en") == "12.50"
    assert locales.money(12.5, "en", "XYZ1") == "12.50 XYZ1"


def test_dates_follow_the_calendar_and_the_locale():
    nowruz = dt.date(2026, 3, 21)
    assert locales.date(nowruz, "en") == "2026-03-21"
    assert locales.date(nowruz, "en", "jalali") == "1405-01-01"
    assert locales.date(nowruz, "fa", "jalali") == "۱۴۰۵/۰۱/۰۱"
    assert locales.month(nowruz, "fa", "jalali") == "فروردین ۱۴۰۵"
    assert locales.month(nowruz, "en", "jalali") == "Farvardin 1405"
    assert locales.month(nowruz, "en") == "March 2026"


def test_stored_times_are_shown_in_the_sites_time_zone():
    stored = dt.datetime(2026, 3, 20, 21, 0)  # UTC, as the warehouse returns it
    assert locales.datetime(stored, "en") == "2026-03-20 21:00"
    assert locales.datetime(stored, "fa", "jalali", "Asia/Tehran") == "۱۴۰۵/۰۱/۰۱ ۰۰:۳۰"


def test_direction_and_names():
    assert locales.direction("fa") == "rtl" and locales.direction("en") == "ltr"
    assert locales.native_name("fa") == "فارسی" and locales.native_name("en") == "English"
    assert locales.digits("2026", "en") == "2026"


def test_amounts_and_their_unit_apart():
    assert (locales.amount(42.5, "en", "EUR"), locales.unit_name("en", "EUR")) == ("42.50", "EUR")
    assert (locales.amount(1_250_000, "fa", "IRR", "toman"), locales.unit_name("fa", "IRR", "toman")) == (
        "۱۲۵٬۰۰۰",
        "تومان",
    )
    assert locales.unit_name("fa", "IRR", "rial") == "ریال"
