"""Every string of the admin and the demo store is in every catalogue, translated, with the same
placeholders, and the compiled catalogues the apps load match their sources.

After a merge that adds templates or messages: ``make translations`` (extract, merge, compile),
translate what it added, and this test passes again; it names each missing string.
"""

from __future__ import annotations

import pytest

from tests.support import catalogues


def _id(message) -> str:
    return message.id[0] if isinstance(message.id, (tuple, list)) else message.id


def _text(message):
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else message.string


@pytest.mark.parametrize("room", catalogues.ROOMS)
def test_persian_is_a_language_of_each_room(room):
    assert "fa" in catalogues.languages(room)


@pytest.mark.parametrize(
    ("room", "language"), [(r, lang) for r in catalogues.ROOMS for lang in catalogues.languages(r)]
)
def test_every_extracted_string_is_translated(room, language):
    catalog = catalogues.catalogue(room, language)
    translated = {
        _id(m)
        for m in catalog
        if m.id and "fuzzy" not in m.flags and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(catalogues.extracted(room) - translated)
    assert missing == [], f"{len(missing)} strings of {room} lack a {language} translation; run `make translations`"


@pytest.mark.parametrize(
    ("room", "language"), [(r, lang) for r in catalogues.ROOMS for lang in catalogues.languages(r)]
)
def test_translations_keep_their_placeholders(room, language):
    catalog = catalogues.catalogue(room, language)
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check() if errors]
    assert problems == []


@pytest.mark.parametrize(
    ("room", "language"), [(r, lang) for r in catalogues.ROOMS for lang in catalogues.languages(r)]
)
def test_the_compiled_catalogue_is_the_source_compiled(room, language):
    source = catalogues.catalogue(room, language)
    shipped = catalogues.compiled(room, language)
    expected = {_id(m): _text(m) for m in source if m.id and not m.fuzzy}
    actual = {_id(m): _text(m) for m in shipped if m.id}
    assert actual == expected, "run `make translations-compile` and commit the .mo files"
