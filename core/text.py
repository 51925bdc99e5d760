"""Folding text for search and matching: what is typed on any keyboard finds what was stored.

Persian is typed on Arabic keyboards as often as on Persian ones, and the two
encode some letters differently: Arabic yeh (ي) and kaf (ك) look like Persian
yeh (ی) and keheh (ک) but are other code points; digits come as Latin,
Persian (۰–۹) or Arabic-Indic (٠–٩); the zero-width non-joiner inside words
(می‌خواهم) is sometimes typed, sometimes a space, sometimes left out. ``fold``
maps all of these to one form, so a search compares folded query with folded
data. It is pure and small on purpose: search and record matching share it.
"""

from __future__ import annotations

import unicodedata

# Letters that Arabic keyboards and older encodings produce for Persian ones.
LETTERS = {
    "ي": "ی",  # Arabic yeh
    "ى": "ی",  # alef maksura
    "ئ": "ی",  # yeh with hamza above
    "ك": "ک",  # Arabic kaf
    "ة": "ه",  # teh marbuta
    "ۀ": "ه",  # heh with yeh above
    "ؤ": "و",
    "أ": "ا",
    "إ": "ا",
    "ٱ": "ا",
    "آ": "ا",
}
DIGITS = {**{chr(0x06F0 + n): str(n) for n in range(10)}, **{chr(0x0660 + n): str(n) for n in range(10)}}
# Joiners, the tatweel that stretches a word, and the short-vowel marks, which writers leave out at will.
DROPPED = ["\u200c", "\u200d", "\u200e", "\u200f", "\u0640", *map(chr, range(0x064B, 0x0660)), "\u0670"]
_TABLE = str.maketrans({**LETTERS, **DIGITS, **dict.fromkeys(DROPPED, None)})


def fold(text: str) -> str:
    """``text`` in one comparable form: Persian letters, Latin digits, no joiners or vowel marks,
    case-folded, runs of white space as one space.

    >>> fold("كيف ٢")
    'کیف 2'
    """
    text = unicodedata.normalize("NFKC", text or "")
    return " ".join(text.translate(_TABLE).casefold().split())


def persian_digits(text: str) -> str:
    """Latin digits written as Persian ones (۰–۹), for display; everything else unchanged."""
    return str(text).translate(_TO_PERSIAN)


_TO_PERSIAN = str.maketrans({str(n): chr(0x06F0 + n) for n in range(10)})


def matches(query: str, text: str) -> bool:
    """Whether every word of ``query`` occurs in ``text``, both folded (an empty query matches nothing)."""
    words = fold(query).split()
    haystack = fold(text)
    return bool(words) and all(word in haystack for word in words)
