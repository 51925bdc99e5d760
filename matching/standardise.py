"""Standardised values, kept beside the raw ones, so that equal things compare equal.

Nothing here is fatal: a value that cannot be standardised (a phone with too
few digits, an address with no ``@``) gives an empty standard value and a
flag naming the field, and the record is kept with its raw value.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd

FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "city",
    "postcode",
    "country",
    "birth_date",
)
# Persian and Arabic keyboards give different code points for one letter; fold to one of each.
_LETTERS = str.maketrans(
    {
        "\u064a": "\u06cc",  # Arabic yeh -> Persian yeh
        "\u0649": "\u06cc",  # alef maksura -> Persian yeh
        "\u0643": "\u06a9",  # Arabic kaf -> Persian keheh
        "\u0629": "\u0647",  # teh marbuta -> heh
        "\u06c0": "\u0647",  # heh with yeh above -> heh
        "\u0623": "\u0627",  # alef with hamza above -> alef
        "\u0625": "\u0627",  # alef with hamza below -> alef
        "\u0622": "\u0627",  # alef with madda -> alef
        "\u0671": "\u0627",  # alef wasla -> alef
        "\u0624": "\u0648",  # waw with hamza -> waw
        "\u0626": "\u06cc",  # yeh with hamza -> yeh
        "\u200c": " ",  # zero-width non-joiner: two keyboards, one with a space
        "\u200d": "",  # zero-width joiner
        "\u200f": "",  # right-to-left mark
        "\u200e": "",  # left-to-right mark
        "\u0640": "",  # tatweel (kashida)
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian digits
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
    }
)
_MARKS = re.compile(r"[\u064b-\u065f\u0670]")  # Arabic diacritics (harakat), dropped like Latin accents
_PUNCT = re.compile(r"[^\w]+", re.UNICODE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Providers whose addresses ignore dots in the local part (Gmail) or take +tags; applied only when asked.
DOTLESS = frozenset({"gmail.com", "googlemail.com"})
_PLACEHOLDER = re.compile(r"^(test|none|no|noreply|no-reply|null|example|a|x)@|@(example\.(com|org|net)|test\.com)$")


@lru_cache(maxsize=500_000)
def fold_text(value: str) -> str:
    """Case, accents, Persian/Arabic letter variants, digits, punctuation and spacing folded.

    ``"Zoë  O'Brien"`` -> ``"zoe o brien"``; ``"علي"`` and ``"علی"`` -> ``"علی"``;
    ``"۱۲۳"`` -> ``"123"``; a zero-width non-joiner counts as a space.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_LETTERS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c) or _is_arabic(c))
    text = _MARKS.sub("", unicodedata.normalize("NFC", text))
    text = _PUNCT.sub(" ", text.casefold().replace("_", " "))
    return " ".join(text.split())


def _is_arabic(char: str) -> bool:
    # Decomposing would split Arabic letters with hamza or madda already folded above; keep the rest whole.
    return "\u0600" <= char <= "\u06ff"


def standard_email(value: str, sub_addressing: bool = False) -> tuple[str, bool]:
    """(address, valid): trimmed and lowercased; with ``sub_addressing``, ``+tags`` dropped and Gmail's dots.

    A placeholder address (``test@test.com``) is flagged invalid: it names nobody.
    """
    text = unicodedata.normalize("NFKC", str(value or "")).strip().lower().strip("<>\"' ")
    if not text:
        return "", True
    if not _EMAIL.match(text) or _PLACEHOLDER.search(text):
        return "", False
    local, _, domain = text.rpartition("@")
    if sub_addressing:
        local = local.split("+", 1)[0]
        if domain in DOTLESS:
            local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}", True


@lru_cache(maxsize=200_000)
def standard_phone(value: str, region: str = "") -> tuple[str, bool]:
    """(E.164, valid): parsed with ``phonenumbers`` in ``region`` unless the number says its country."""
    import phonenumbers

    text = str(value or "").translate(_LETTERS).strip()
    if not text:
        return "", True
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except phonenumbers.NumberParseException:
        return "", False
    if not phonenumbers.is_possible_number(number):
        return "", False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True


@lru_cache(maxsize=100_000)
def standard_date(value: str) -> tuple[str, bool]:
    """(YYYY-MM-DD, valid) from the usual spellings, Persian digits included."""
    text = str(value or "").translate(_LETTERS).strip()
    if not text:
        return "", True
    digits = re.sub(r"\D", "", text)
    formats = ("%Y%m%d",) if len(digits) == 8 and digits == text else ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d.%m.%Y")
    for fmt in formats:
        try:
            return pd.to_datetime(text, format=fmt).strftime("%Y-%m-%d"), True
        except (ValueError, TypeError):
            continue
    return "", False


def standardise(records: pd.DataFrame, region: str = "", sub_addressing: bool = False) -> pd.DataFrame:
    """Each raw field's standard value in ``std_<field>``, and ``problems``: the fields that were invalid.

    Parameters
    ----------
    records : DataFrame
        Raw text columns named as ``FIELDS`` (missing ones count as empty).
    region : str
        ISO country of phones written without a country code (the site's default).
    sub_addressing : bool
        Drop ``+tags`` (and Gmail's dots) from emails, so ``ali+shop@x`` is ``ali@x``.
    """
    out = records.copy()
    for name in FIELDS:
        if name not in out:
            out[name] = ""
        out[name] = out[name].fillna("").astype(str)
    problems = [[] for _ in range(len(out))]
    emails = [standard_email(v, sub_addressing) for v in out["email"]]
    countries = out["country"].map(fold_text)
    phones = [standard_phone(v, _region_of(c) or region) for v, c in zip(out["phone"], countries)]
    dates = [standard_date(v) for v in out["birth_date"]]
    for name, parsed in (("email", emails), ("phone", phones), ("birth_date", dates)):
        out["std_" + name] = [v for v, _ in parsed]
        for i, (_, ok) in enumerate(parsed):
            if not ok:
                problems[i].append(name)
    for name in ("first_name", "last_name", "address", "city"):
        out["std_" + name] = out[name].map(fold_text)
    out["std_postcode"] = out["postcode"].map(fold_text).str.replace(" ", "", regex=False)
    out["std_country"] = countries
    out["problems"] = problems
    return out


_COUNTRIES = {"iran": "IR", "ایران": "IR", "united kingdom": "GB", "uk": "GB", "germany": "DE", "usa": "US"}


def _region_of(country: str) -> str:
    """A phone region from a folded country: an ISO code as given, or a few common names."""
    if len(country) == 2 and country.isascii() and country.isalpha():
        return country.upper()
    return _COUNTRIES.get(country, "")
