"""The portal's words in English, Spanish and Portuguese: every message the code and templates
say has a translation in each catalog, with the same placeholders; the browser's language is read
as Accept-Language ranks it; dates and numbers as each language writes them."""

from __future__ import annotations

import re
from datetime import date
from importlib import resources

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from entrypoints.web.i18n import LANGUAGES, Speaker, negotiate
from tests.unit.entrypoints.web.test_refusals import refusal_templates

FOLDER = resources.files("entrypoints.web")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def said() -> set[str | tuple[str, ...]]:
    """Every message the portal's code and templates mark for translation, and the domain's
    refusals it says (tests/unit/entrypoints/web/test_refusals.py checks those more closely)."""
    return {
        message
        for _, _, message, _, _ in extract_from_dir(
            str(FOLDER),
            method_map=[("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")],
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
        )
    } | refusal_templates()


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    with (FOLDER / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    messages = said()
    assert len(messages) > 50, "the extraction found the portal's messages"
    for message in messages:
        entry = catalog.get(message)
        assert entry is not None, f"{language}: no entry for {message!r}"
        originals = message if isinstance(message, tuple) else (message,)
        translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        assert all(translations), f"{language}: {message!r} is not translated"
        wanted = set(PLACEHOLDER.findall(originals[-1]))
        for translated in translations:
            assert set(PLACEHOLDER.findall(translated)) == wanted, f"{language}: {translated!r}"
    stale = {m.id for m in catalog if m.id} - messages
    assert not stale, f"{language}: entries the portal no longer says: {stale}"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("es-MX,es;q=0.9,en;q=0.8", "es"),
        ("pt-BR", "pt"),
        ("fr-CA, pt;q=0.5, es;q=0.7", "es"),  # by quality, not by position
        ("de-DE, en;q=0.1", "en"),
        ("de-DE", None),
        ("es;q=0, pt", "pt"),  # q=0 means "not this one"
        ("", None),
        (None, None),
        ("*;q=abc, ,;", None),
    ],
)
def test_the_browsers_language_is_the_first_it_ranks_that_the_portal_speaks(
    header: str | None, language: str | None
) -> None:
    assert negotiate(header) == language


def test_dates_and_numbers_are_written_as_each_language_writes_them() -> None:
    day = date(2026, 3, 27)
    assert [Speaker(code).date(day) for code in LANGUAGES] == [
        "March 27, 2026",
        "27 de marzo de 2026",
        "27 de março de 2026",
    ]
    assert [Speaker(code).number(1234.5) for code in LANGUAGES] == ["1,234.5", "1.234,5", "1.234,5"]
    assert Speaker("es").ngettext("{n} item", "{n} items", 1200) == "1.200 items"  # no catalog entry
