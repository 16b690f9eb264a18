"""Ids and bounded text: the one definition of each rule, so every layer refuses the same input with
the same words.

Each is an annotated `str` for pydantic fields, e.g. `name: Name`. Free text refuses control
characters (NUL, which PostgreSQL cannot store, bells, escapes, C1 controls) and the bidirectional
overrides and isolates that make text read otherwise than it is stored (a name shown reversed in a
listing or a certificate); a name or an id refuses line breaks and tabs too. Pydantic itself
refuses a lone surrogate, which no UTF-8 text can hold. Refused here, such input never reaches the
event store or a page. The rules are patterns, not only checks in code, so JSON Schema and the
OpenAPI document state them.

A refusal says what to send, in words, never the pattern: each message is a rule that starts with
"must", so whoever shows it names the field first ("name must be one line...", "--country must
be..."; app/problems.py does, for the API and the CLI alike).
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)

CITY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
CITY_ID_RULE = "2 to 63 lowercase letters, digits or hyphens, not starting with a hyphen"
CITY_ID_MESSAGE = f"must be a city id: {CITY_ID_RULE}, such as lakeside"
_BIDI = "\u202a-\u202e\u2066-\u2069"  # embeddings, overrides, isolates
TEXT_PATTERN = f"^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f{_BIDI}]*$"  # tabs and line breaks allowed
LINE_PATTERN = f"^[^\\x00-\\x1f\\x7f-\\x9f{_BIDI}]*$"
TEXT_RULE = (
    "must be text without NUL characters, other control characters or bidirectional overrides "
    "(line breaks and tabs are fine)"
)
LINE_RULE = (
    "must be one line of text, without line breaks, tabs, NUL or other control characters, "
    "or bidirectional overrides"
)
COUNTRY_CODE_RULE = "must be the two letters of an ISO 3166-1 country code, such as US, CA or MX"
DOCUMENT_ID_MESSAGE = "must be a document id: the 32 lowercase hexadecimal digits its upload answered"
SHA256_MESSAGE = "must be a SHA-256: 64 lowercase hexadecimal digits"
MEDIA_TYPE_MESSAGE = "must be a media type: type/subtype in lowercase, such as application/pdf"
HTTPS_URL_MESSAGE = "must be an https:// address with a host, such as https://example.org/report.pdf"
_CITY_ID = re.compile(CITY_ID_PATTERN)
NAME_MAX = 200
TEXT_MAX = 10_000
URL_MAX = 2_000
CRITERION_ID_MAX = 32


def is_city_id(value: str) -> bool:
    """Whether `value` could be a city's id (for a path or an option, before any lookup)."""
    return _CITY_ID.fullmatch(value) is not None


def _pattern_in_words(rule: str) -> WrapValidator:
    """The pattern stays in the schema (OpenAPI shows it, app.tokens reads the city id's); a
    person gets the rule in words instead of the regex."""

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> object:
        try:
            return handler(value)
        except ValidationError as e:
            if any(err["type"] == "string_pattern_mismatch" for err in e.errors()):
                raise ValueError(rule) from None
            raise

    return WrapValidator(check)


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _two_letters(value: str) -> str:
    if not (len(value) == 2 and value.isascii() and value.isalpha()):
        raise ValueError(COUNTRY_CODE_RULE)
    return value


CityId = Annotated[str, StringConstraints(pattern=CITY_ID_PATTERN), _pattern_in_words(CITY_ID_MESSAGE)]
"""A city's id, as in its workflow id `city-<id>` and its stream: e.g. `lakeside`."""

CriterionId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=CRITERION_ID_MAX, pattern=LINE_PATTERN),
    _pattern_in_words(LINE_RULE),
]
"""A criterion of a standard, e.g. `DM1`; whether the standard has it is the decider's question."""

CountryCode = Annotated[
    str,
    BeforeValidator(_upper),
    AfterValidator(_two_letters),
    # What a caller may send (the checks above accept any case and surrounding spaces).
    WithJsonSchema({"type": "string", "pattern": r"^\s*[A-Za-z]{2}\s*$"}),
]
"""ISO 3166-1 alpha-2, upper-cased first, so `us` is `US`."""

Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_MAX, pattern=LINE_PATTERN),
    _pattern_in_words(LINE_RULE),
]
"""A short label: a city's or person's name, a cohort, a standard version, a reviewer id."""

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TEXT_MAX, pattern=TEXT_PATTERN),
    _pattern_in_words(TEXT_RULE),
]
"""Prose that must say something: findings, a rationale, grounds, an answer."""

Note = Annotated[
    str, StringConstraints(max_length=TEXT_MAX, pattern=TEXT_PATTERN), _pattern_in_words(TEXT_RULE)
]
"""Prose that may be left empty (a narrative, a reviewer's note); kept as written, not stripped."""


def _https(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ValueError(HTTPS_URL_MESSAGE)
    return value


HttpsUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=URL_MAX, pattern=LINE_PATTERN),
    _pattern_in_words(LINE_RULE),
    AfterValidator(_https),
]
"""A link a reviewer may open: https only (no `javascript:`, `data:` or plain http), one line."""


DOCUMENT_ID_PATTERN = r"^[0-9a-f]{32}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
MEDIA_TYPE_PATTERN = r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$"

DocumentId = Annotated[
    str,
    StringConstraints(pattern=DOCUMENT_ID_PATTERN),
    _pattern_in_words(DOCUMENT_ID_MESSAGE),
]
"""An uploaded document's id: a UUID's 32 hex digits, made by the application when it is uploaded."""

Sha256 = Annotated[
    str,
    StringConstraints(pattern=SHA256_PATTERN),
    _pattern_in_words(SHA256_MESSAGE),
]
"""The SHA-256 of a document's bytes, in lowercase hex: where it is stored and what verify checks."""

MediaType = Annotated[
    str,
    StringConstraints(max_length=NAME_MAX, pattern=MEDIA_TYPE_PATTERN),
    _pattern_in_words(MEDIA_TYPE_MESSAGE),
]
"""A document's media type as recognised from its content, e.g. `application/pdf`."""
