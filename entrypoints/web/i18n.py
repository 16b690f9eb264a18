"""The portal's languages: English, Spanish and Portuguese.

The words are English in the code and templates (`_("...")`); the Spanish and Portuguese live in
Babel catalogs beside this file (locales/LANG/LC_MESSAGES/messages.po), compiled in memory the first
time they are needed: no build step, and a .po edited is a .po served after a restart.

Which language a page speaks: the one the visitor chose with the switch (a cookie), else the
signed-in person's, else the first the browser's Accept-Language names that we have, else English.
Dates and numbers are written as that language writes them (Babel's CLDR data). Babel finds a
locale's patterns and symbols anew on every call, which a page of many numbers felt (the round
board formats some 400): each language's answers for a value are kept, as are the languages an
Accept-Language header negotiates to. A value's words never change, so keeping them is exact.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES = ("en", "es", "pt")
DEFAULT = "en"
# Each language's name in itself, for the switch.
NAMES = {"en": "English", "es": "Español", "pt": "Português"}


def N_(message: str) -> str:  # gettext's conventional name for "translate later"
    """Marks a message for the catalogs where it is written; translated where it is shown."""
    return message


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalog, compiled from its .po file (English needs none)."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    po = resources.files("entrypoints.web") / "locales" / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@dataclass(frozen=True, slots=True)
class Speaker:
    """Words, dates and numbers in one language: what a page is rendered with."""

    language: str

    def gettext(self, message: str, **values: Any) -> str:
        """The message in this language, with `{name}` filled from `values`."""
        translated = translations(self.language).gettext(message)
        return translated.format(**values) if values else translated

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        translated = translations(self.language).ngettext(singular, plural, n)
        return translated.format(n=_decimal(self.language, n), **values)

    def date(self, moment: date | datetime | None) -> str:
        """A day as the language writes it in full: 27 March 2026, 27 de marzo de 2026."""
        if moment is None:
            return ""
        # Babel writes a moment's own day (no time zone conversion): the same as its date's.
        return _date(self.language, moment.date() if isinstance(moment, datetime) else moment)

    def datetime(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return format_datetime(moment, format="medium", tzinfo=moment.tzinfo, locale=self.language)

    def number(self, value: float) -> str:
        return _decimal(self.language, value)

    def percent(self, share: float) -> str:
        """A share (0..1) as a whole percent: 67 %, 67 %."""
        return _percent(self.language, share)


# Kept per language and value (typed: 1 and 1.0 are kept apart); a few thousand of each at most.
@lru_cache(maxsize=8192, typed=True)
def _decimal(language: str, value: float) -> str:
    return format_decimal(value, locale=language)


@lru_cache(maxsize=4096, typed=True)
def _percent(language: str, share: float) -> str:
    return format_percent(share, format="#,##0 %", locale=language)


@lru_cache(maxsize=4096)
def _date(language: str, day: date) -> str:
    return format_date(day, format="long", locale=language)


def negotiate(accept_language: str | None) -> str | None:
    """The first language of an Accept-Language header that the portal speaks, by its q values."""
    if not accept_language:
        return None
    return _negotiated(accept_language) if len(accept_language) <= 200 else _negotiate(accept_language)


@lru_cache(maxsize=1024)
def _negotiated(accept_language: str) -> str | None:
    """Browsers send a handful of headers over and over: each is negotiated once."""
    return _negotiate(accept_language)


def _negotiate(accept_language: str) -> str | None:
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    wanted = [tag.replace("-", "_") for _, _, tag in sorted(ranked)]
    if "*" in wanted:
        wanted = [w for w in wanted if w != "*"]
    found = Locale.negotiate(wanted, list(LANGUAGES), sep="_")
    return found.language if found else None
