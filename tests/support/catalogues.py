"""The translatable text of a room as pybabel extracts it (babel.cfg), and its catalogues.

Used by tests/webapp/test_translations.py and the browser tests; re-run after a merge that
adds templates: ``make translations`` updates the catalogues, the test names what is missing.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.support import ROOT

ROOMS = ("webapp", "storefront")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def extracted(room: str) -> set[str]:
    """Every msgid (the singular, for plurals) in the room's code and templates."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / room, method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def languages(room: str) -> list[str]:
    return sorted(p.parent.parent.name for p in (ROOT / room / "translations").glob("*/LC_MESSAGES/messages.po"))


def catalogue(room: str, language: str):
    path = ROOT / room / "translations" / language / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as f:
        return read_po(f, locale=language)


def compiled(room: str, language: str):
    path = ROOT / room / "translations" / language / "LC_MESSAGES" / "messages.mo"
    with open(path, "rb") as f:
        return read_mo(f)


def english_ui_strings(room: str = "webapp", shortest: int = 12) -> list[str]:
    """Source strings long enough to be unmistakably UI text, without placeholders or markup:
    none of them may show on a page in another language."""
    keep = []
    for message in extracted(room):
        if len(message) >= shortest and "%(" not in message and "<" not in message and " " in message:
            keep.append(message)
    return sorted(keep)


def path_of(room: str) -> Path:
    return ROOT / room / "translations"
