"""Numbers, money and dates written the way a reader of a locale expects.

Pure functions over Babel's locale data: thousands separators and decimal
marks per locale, native digits where the locale writes them (Persian
digits ۰–۹ in ``fa``), and dates in the site's calendar (``core.calendars``).
Both web apps (admin and demo store) use them through their template filters.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import jdatetime
from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_date
from babel.numbers import format_currency, format_decimal, format_percent, is_currency

from . import calendars

# Digits of the numbering systems a locale may write by default.
_NATIVE = {
    "arabext": str.maketrans({str(n): chr(0x06F0 + n) for n in range(10)}),
    "arab": str.maketrans({str(n): chr(0x0660 + n) for n in range(10)}),
}
# Iranian prices are quoted in tomans (ten rials); amounts recorded in IRR may be shown in them.
MONEY_UNITS = {"IRR": ("rial", "toman")}
UNIT_NAMES = {("toman", "fa"): "تومان", ("toman", "en"): "toman", ("rial", "fa"): "ریال", ("rial", "en"): "rial"}


@lru_cache(maxsize=32)
def locale_data(tag: str) -> Locale:
    try:
        return Locale.parse(str(tag or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _numbering(tag: str) -> str:
    system = locale_data(tag).default_numbering_system
    return system if system in locale_data(tag).number_symbols else "latn"


def digits(text, tag: str) -> str:
    """``text`` with Latin digits written in the locale's own (unchanged for ``en``)."""
    table = _NATIVE.get(_numbering(tag))
    return str(text).translate(table) if table else str(text)


def direction(tag: str) -> str:
    """``rtl`` or ``ltr``: the locale's writing direction."""
    return locale_data(tag).text_direction


def native_name(tag: str) -> str:
    """The language's name in itself (فارسی, English), for a language switch."""
    name = locale_data(tag).display_name or tag
    return name[:1].upper() + name[1:]


def number(value, tag: str, decimals: int = 0) -> str:
    """``value`` with the locale's separators and digits, and ``decimals`` places."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    text = format_decimal(value, pattern, locale=locale_data(tag), numbering_system=_numbering(tag))
    return digits(text, tag)


def percent(value, tag: str, decimals: int = 0) -> str:
    """A fraction (0.25) as a percentage (25%, ۲۵٪)."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    text = format_percent(value, pattern, locale=locale_data(tag), numbering_system=_numbering(tag))
    return digits(text, tag)


def money(value, tag: str, currency: str = "", unit: str = "") -> str:
    """An amount recorded in ``currency`` as the locale writes it; IRR in tomans when ``unit`` is toman."""
    if value is None:
        return "–"
    currency = (currency or "").upper()
    if currency == "IRR" and unit == "toman":
        language = locale_data(tag).language
        name = UNIT_NAMES.get(("toman", language), "toman")
        return f"{number(float(value) / 10, tag)} {name}"
    if not currency:
        return number(value, tag, 2)
    if not is_currency(currency):
        return f"{number(value, tag, 2)} {currency}"
    text = format_currency(value, currency, locale=locale_data(tag), numbering_system=_numbering(tag))
    return digits(text.replace("\u200e", ""), tag)


def amount(value, tag: str, currency: str = "", unit: str = "") -> str:
    """An amount without its currency (shown apart, see ``unit_name``): rials and tomans in whole units."""
    if value is None:
        return "–"
    if (currency or "").upper() == "IRR":
        return number(float(value) / (10 if unit == "toman" else 1), tag)
    return number(value, tag, 2)


def unit_name(tag: str, currency: str = "", unit: str = "") -> str:
    """What an ``amount`` is counted in: the currency code, or toman/rial in the reader's language."""
    if (currency or "").upper() == "IRR":
        language = locale_data(tag).language
        return UNIT_NAMES.get((unit or "rial", language), UNIT_NAMES.get((unit or "rial", "en"), "IRR"))
    return (currency or "").upper()


def date(value, tag: str, calendar: str = "gregorian") -> str:
    """A day as year, month, day in the site's calendar: 2026-03-21, or ۱۴۰۵/۰۱/۰۱ in Persian."""
    if value is None or value == "":
        return "–"
    day = value.date() if isinstance(value, dt.datetime) else value
    text = "{:04d}-{:02d}-{:02d}".format(*calendars.parts(day, calendar))
    return digits(text.replace("-", "/"), tag) if direction(tag) == "rtl" else text


def datetime(value, tag: str, calendar: str = "gregorian", timezone: str = "UTC", seconds: bool = False) -> str:
    """A stored (UTC) time as the wall-clock time of the site's time zone, in its calendar."""
    if value is None or value == "":
        return "–"
    moment = calendars.local(value, timezone)
    clock = moment.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{date(moment.date(), tag, calendar)} {digits(clock, tag)}"


def month(value, tag: str, calendar: str = "gregorian") -> str:
    """The month holding ``value``, named: Farvardin 1405, فروردین ۱۴۰۵, March 2026."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    if calendar == "jalali":
        year, number_, _ = calendars.parts(day, calendar)
        months = jdatetime.date.j_months_fa if locale_data(tag).language == "fa" else jdatetime.date.j_months_en
        return digits(f"{months[number_ - 1]} {year}", tag)
    return digits(babel_date(day, "LLLL y", locale=locale_data(tag)), tag)


def jalali_picker(tag: str) -> dict:
    """What the Jalali date picker writes: month names, the week from Saturday (narrow and full day
    names), and the locale's digits (0-9 in order, as the locale writes them)."""
    locale = locale_data(tag)
    months = jdatetime.date.j_months_fa if locale.language == "fa" else jdatetime.date.j_months_en
    # Babel numbers days from Monday (0); the Iranian week starts on Saturday (5).
    order = [5, 6, 0, 1, 2, 3, 4]
    # Persian writes the weekdays' initials (ش ی د); other languages their two-letter names.
    short = locale.days["stand-alone"]["narrow"] if locale.language == "fa" else locale.days["format"]["short"]
    wide = locale.days["format"]["wide"]
    return {
        "months": list(months),
        "days": [short[d] for d in order],
        "day_names": [wide[d] for d in order],
        "digits": digits("0123456789", tag),
    }
