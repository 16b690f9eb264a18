"""A validation problem as a person reads it: one sentence naming the field and what to send.

Pydantic's own messages name no field and may quote a regex ("String should match pattern
'^[a-z0-9]...'"); the API (entrypoints/http/errors.py) and the CLI (entrypoints/cli/context.py)
both render each problem through `in_words`, so they say the same thing: "name must be at most
200 characters", "id must be a city id: 2 to 63 lowercase letters...", "level must be one of
'silver', 'gold' or 'platinum'". The domain's own rules (domain/ids.py) are worded to follow a
field's name ("must be one line of text..."); a message that is a sentence of its own ("'Canadia'
is not a country name or code we know; ...") is kept as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from domain import ids, people, rounds

# Every pattern a request is checked against (domain/ids.py's, and the NUL-free text of a query),
# as the rule it states; a test walks the OpenAPI document to see that none is missing.
PATTERN_RULES: dict[str, str] = {
    ids.CITY_ID_PATTERN: ids.CITY_ID_MESSAGE,
    ids.LINE_PATTERN: ids.LINE_RULE,
    ids.TEXT_PATTERN: ids.TEXT_RULE,
    ids.DOCUMENT_ID_PATTERN: ids.DOCUMENT_ID_MESSAGE,
    ids.SHA256_PATTERN: ids.SHA256_MESSAGE,
    ids.MEDIA_TYPE_PATTERN: ids.MEDIA_TYPE_MESSAGE,
    people.EMAIL_PATTERN: "must be an e-mail address such as name@example.org: one @, a host name "
    "with a dot, no spaces",
    people.PERSON_ID_PATTERN: "must be a person's id: per_ and 16 lowercase hexadecimal digits",
    r"^[^\x00]*$": "must not contain NUL characters",
    r"^[A-Za-z]{2}$": ids.COUNTRY_CODE_RULE,  # the public directory's country filter
    r"^[^\x00]+$": "must not be empty or contain NUL characters",
    rounds.ROUND_ID_PATTERN: rounds.ROUND_ID_MESSAGE,
}
UNKNOWN_PATTERN_RULE = "is not in the form the API's description gives for it"

_DAY = "must be a date, such as 2026-03-01"
_MOMENT = "must be a moment with its UTC offset, such as 2026-03-01T09:00:00Z"

# Pydantic's error types, as the rule they state; `{...}` is filled from the error's context.
_RULES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a field this request takes",
    "string_type": "must be text (a JSON string)",
    "string_sub_type": "must be text (a JSON string)",
    "string_unicode": "must be text (a JSON string)",
    "string_too_long": "must be at most {max_length:,} characters",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing_size": "must be a whole number of a sensible size",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "greater_than_equal": "must be at least {ge:,}",
    "greater_than": "must be more than {gt:,}",
    "less_than_equal": "must be at most {le:,}",
    "less_than": "must be less than {lt:,}",
    "multiple_of": "must be a multiple of {multiple_of}",
    "enum": "must be one of {expected}",
    "literal_error": "must be {expected}",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dataclass_type": "must be an object",
    "date_type": _DAY,
    "date_parsing": _DAY,
    "date_from_datetime_parsing": _DAY,
    "date_from_datetime_inexact": _DAY,
    "datetime_type": _MOMENT,
    "datetime_parsing": _MOMENT,
    "datetime_from_date_parsing": _MOMENT,
    "datetime_object_invalid": _MOMENT,
    "timezone_aware": _MOMENT,
    "uuid_type": "must be a UUID, such as 0f8fad5b-d9cb-469f-a165-70867728950e",
    "uuid_parsing": "must be a UUID, such as 0f8fad5b-d9cb-469f-a165-70867728950e",
    "union_tag_invalid": "must be one of {expected_tags}",
    "union_tag_not_found": "is required",
}
# Pydantic's phrasing, for a type not in the table: "Input should be a valid integer" -> "must be...".
_SHOULD = re.compile(
    r"^(?:Input|String|List|Value|Dictionary|Object|Tuple|Set|Decimal|Date|Datetime|URL|UUID) should (?:be )?"
)
_FIELD = re.compile(r"^[a-z_][a-z0-9_]*$")


def field_of(loc: Sequence[str | int]) -> str | None:
    """The field a problem is about: the last name in its location. Positions in a list, keys of
    a map and the tags pydantic adds for a union's members (`DocumentLink`) are not names."""
    names = [part for part in loc if isinstance(part, str) and _FIELD.fullmatch(part)]
    return names[-1] if names else None


def _items(count: int) -> str:
    return f"{count:,} item" if count == 1 else f"{count:,} items"


def rule_of(problem: Mapping[str, Any]) -> str:
    """What the field must be, without its name ("must be at most 200 characters"), or a
    sentence of its own when the problem states one."""
    kind = str(problem.get("type", ""))
    ctx: Mapping[str, Any] = problem.get("ctx") or {}
    message = str(problem.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "string_pattern_mismatch":
        return PATTERN_RULES.get(str(ctx.get("pattern", "")), UNKNOWN_PATTERN_RULE)
    if kind == "string_too_short":
        shortest = int(ctx.get("min_length", 1))
        return "must not be empty" if shortest <= 1 else f"must be at least {shortest:,} characters"
    if kind == "too_short":
        return f"must have at least {_items(int(ctx.get('min_length', 1)))}"
    if kind == "too_long":
        return f"must have at most {_items(int(ctx.get('max_length', 0)))}"
    if kind == "json_invalid":
        return f"the body is not JSON: {ctx.get('error', message)}"
    if kind in _RULES:
        try:
            return _RULES[kind].format(**ctx)
        except (KeyError, ValueError, IndexError):
            pass  # no context to fill it from: pydantic's own words, reworded below
    if kind in ("value_error", "assertion_error") or not _SHOULD.match(message):
        return message
    return "must be " + _SHOULD.sub("", message)


def in_words(problem: Mapping[str, Any], field: str | None) -> str:
    """The problem as one sentence: `field` (as the caller names it: `name`, `--name`) and the
    rule it breaks, or the problem's own sentence when it says what is wrong by itself."""
    ctx: Mapping[str, Any] = problem.get("ctx") or {}
    if problem.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        # Reported on the union as a whole: the field is the one that picks its member.
        field = str(ctx.get("discriminator", "")).strip("'") or field
    rule = rule_of(problem)
    if field and rule.startswith(("must ", "is ")):
        return f"{field} {rule}"
    return rule
