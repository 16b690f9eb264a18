"""A country as people type it, resolved to the ISO 3166-1 alpha-2 code the domain records.

The programme's cities are in the Americas, so their staff write "Canada", "Brasil", "Estados
Unidos" or "México" as often as CA, BR, US or MX. `resolve_country` accepts an ISO 3166-1 code
(two letters or three, any case) or a country's name in English, Spanish or Portuguese, with
accents, case, dots and spacing forgiven, and answers the two-letter code; anything else, or a
name that fits more than one country ("Korea"), is refused with a sentence saying what to send.

The names are ISO's own, from pycountry: the English names (short, official and common) and their
Spanish and Portuguese translations (gettext catalogues shipped in the package, read offline).
`_OWN_NAMES` adds the everyday short forms ISO does not list (USA, EE. UU., UK, Vietnam...).
The domain's CountryCode stays the two-letter code: this module is the edge's, never the domain's.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import cache
from typing import Annotated

import pycountry
from pydantic import AfterValidator, StringConstraints, WithJsonSchema

LANGUAGES = ("es", "pt", "pt_BR")  # besides English, pycountry's own
COUNTRY_TEXT_MAX = 100

# Everyday names ISO's lists do not hold, in the three languages; a key is an alpha-2 code.
_OWN_NAMES: dict[str, tuple[str, ...]] = {
    "US": ("USA", "U.S.", "U.S.A.", "EEUU", "EE. UU.", "EUA", "E.U.A."),
    "GB": ("UK", "U.K.", "Great Britain", "Britain", "Gran Bretaña", "Grã-Bretanha"),
    "MX": ("Méjico",),
    "VG": ("Islas Vírgenes Británicas", "Ilhas Virgens Britânicas"),
    "VI": ("US Virgin Islands", "Islas Vírgenes de los Estados Unidos", "Ilhas Virgens Americanas"),
    "FK": ("Falklands", "Malvinas", "Islas Malvinas", "Ilhas Malvinas"),
    "NL": ("Holland", "Holanda"),
    "KR": ("Corea del Sur", "Coreia do Sul"),
    "KP": ("North Korea", "Corea del Norte", "Coreia do Norte"),
    "RU": ("Russia", "Rusia", "Rússia"),
    "VN": ("Vietnam", "Vietnã"),
    "TR": ("Turkey", "Turquía", "Turquia"),
    "CI": ("Ivory Coast", "Costa de Marfil", "Costa do Marfim"),
    "CZ": ("Czech Republic", "República Checa", "República Tcheca"),
}


class UnknownCountry(ValueError):
    """Text that names no country, or more than one; the message says what to send."""


def _folded(text: str) -> str:
    """The form names are compared in: no accents, no case, no dots, `&` and `St` spelled out,
    punctuation and runs of spaces as one space, no leading article ("the Bahamas")."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.replace(".", "").replace("&", " and ")
    plain = re.sub(r"[^\w]+", " ", plain).strip()
    plain = re.sub(r"^the ", "", plain)
    return re.sub(r"\bst\b", "saint", plain)


def _forms(name: str) -> tuple[list[str], list[str]]:
    """A listed name's forms: (as good as the name itself, weaker). ISO inverts some names
    ("Korea, Republic of", "Bolivia, Estado Plurinacional de"): read in order they are full names;
    the part before the comma, or without a parenthesis ("Falkland Islands (Malvinas)"), is only
    a shorter form, which may fit several countries ("Korea", "Virgin Islands")."""
    full, short = [name], []
    without_parenthesis = re.sub(r"\s*\([^)]*\)", "", name).strip()
    if without_parenthesis != name:
        short.append(without_parenthesis)
    if ", " in without_parenthesis:
        before, after = without_parenthesis.split(", ", 1)
        full.append(f"{after} {before}")
        short.append(before)
    return full, short


@cache
def _index() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Folded name -> the codes it may mean: full names first, then the shorter forms."""
    catalogues = [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        for language in LANGUAGES
    ]
    full: dict[str, set[str]] = {}
    short: dict[str, set[str]] = {}

    def add(table: dict[str, set[str]], name: str, code: str) -> None:
        key = _folded(name)
        if key:
            table.setdefault(key, set()).add(code)

    for country in pycountry.countries:
        code = country.alpha_2
        english = [getattr(country, f, None) for f in ("name", "official_name", "common_name")]
        for name in (n for n in english if n):
            for translated in {name, *(c.gettext(name) for c in catalogues)}:
                names, shorter = _forms(translated)
                for each in names:
                    add(full, each, code)
                for each in shorter:
                    add(short, each, code)
    for code, own in _OWN_NAMES.items():
        for name in own:
            add(full, name, code)
    return (
        {k: frozenset(v) for k, v in full.items()},
        {k: frozenset(v) for k, v in short.items()},
    )


def _named(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return f"{getattr(country, 'common_name', None) or country.name} ({code})" if country else code


def unknown_country_message(text: str) -> str:
    return (
        f"{text!r} is not a country name or code we know; send an ISO 3166 code such as CA, "
        "or the country's name in English, Spanish or Portuguese"
    )


def resolve_country(text: str) -> str:
    """The ISO 3166-1 alpha-2 code `text` names: a code of two or three letters in any case, or a
    country's name in English, Spanish or Portuguese. Raises UnknownCountry, saying why."""
    given = text.strip()
    letters = given.upper()
    if letters.isascii() and letters.isalpha() and len(letters) in (2, 3):
        found = (
            pycountry.countries.get(alpha_2=letters)
            if len(letters) == 2
            else pycountry.countries.get(alpha_3=letters)
        )
        if found is not None:
            return str(found.alpha_2)
    key = _folded(given)
    full, short = _index()
    codes = full.get(key) or short.get(key) or frozenset()
    if len(codes) == 1:
        return next(iter(codes))
    if codes:
        choices = ", ".join(_named(code) for code in sorted(codes))
        raise UnknownCountry(
            f"{given!r} may be more than one country ({choices}); send the ISO 3166 code of the one you mean"
        )
    raise UnknownCountry(unknown_country_message(given))


def _resolved(value: str) -> str:
    return resolve_country(value)


COUNTRY_DESCRIPTION = (
    "The country: an ISO 3166-1 code (two letters such as CA, or three such as CAN, in any case) or "
    "its name in English, Spanish or Portuguese, accents and case forgiven (Canada, Brasil, Estados "
    "Unidos, México). Recorded, and answered, as the two-letter code."
)

CountryNameOrCode = Annotated[
    str,
    StringConstraints(max_length=COUNTRY_TEXT_MAX),
    AfterValidator(_resolved),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": COUNTRY_TEXT_MAX,
            "description": COUNTRY_DESCRIPTION,
            "examples": ["CA", "Canada", "Brasil", "Estados Unidos", "mx"],
        }
    ),
]
"""A country as a person types it, resolved to its alpha-2 code while the body is read."""


def country_name(code: str) -> str:
    """The country's name in English as people write it ("Canada", "Bolivia"), for announcements;
    the code itself for one ISO does not list."""
    country = pycountry.countries.get(alpha_2=code)
    return (getattr(country, "common_name", None) or country.name) if country else code
