"""Domain errors: a command refused by the rules, with a message a person can act on.

Two kinds of refusal: `InvalidCommand` is wrong whatever the city's state (it names a standard or a
criterion that does not exist: the caller must change the command), `CommandRejected` is not allowed
now (the city's state must change first). The workflow passes each on by its class name, and the
API answers 422 for the first, 409 for the second.

Every refusal is a `Refusal` too: its English template and the values it names, as data. The
English words (`str(e)`, what the API and the CLI say) are the template filled in; the portal looks
the template up in its catalogs and fills in the same values as the person's language writes them
(a date, a number, a phase's name). So a template is written once, as a literal at its raise site
(the catalogs' extraction finds it there: `REFUSAL_KEYWORDS`), and names its values `{like_this}`;
a date or a number is given as itself, not as text, so each language can write it its own way.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Union

# The calls whose argument (by position) is a refusal's template, for the catalogs' extraction
# (babel's keyword specs): `make messages` and the catalog test read them from here.
REFUSAL_KEYWORDS: dict[str, tuple[int, ...]] = {
    "Refusal": (1,),
    "DomainError": (1,),
    "CommandRejected": (1,),
    "InvalidCommand": (1,),
    "TooFrequent": (1,),
    "IneligibleCity": (1,),
    "_reject": (2,),
}


@dataclass(frozen=True, slots=True)
class Label:
    """A value of one of the domain's enumerations named in a refusal (a phase, a level, a status,
    a command): English writes the value itself; a language writes its own name for it."""

    kind: str
    value: str

    @classmethod
    def of(cls, member: Enum) -> Label:
        return cls(type(member).__name__, str(member.value))

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class English(str):
    """Words written in English only: a refusal naming them is said in English in every language,
    never half translated."""


class Quoted(English):
    """Words another library wrote, in English (pydantic's, zipfile's, Temporal's): English says
    them as they are, so the API's and the CLI's words stay the library's; another language says
    their `gist` instead, a refusal of our own that says what they mean to a person."""

    gist: Refusal

    def __new__(cls, words: str, gist: Refusal) -> Quoted:
        quoted = super().__new__(cls, words)
        quoted.gist = gist
        return quoted

    def __reduce__(self) -> tuple[Any, ...]:
        return (Quoted, (str(self), self.gist))


# What a refusal may name: words, numbers, days and moments, labels, lists of them, and other
# refusals (a reason inside "city is in phase: reason"); None is said as Python says it.
Value = Union[str, int, float, Decimal, date, datetime, Label, "Refusal", Sequence["Value"], None]

# How a list is joined in English, by the format spec its placeholder gives: `{ids}` with commas,
# `{phases:or}` with "or", `{problems:;}` with semicolons.
LIST_JOINS = {"": ", ", "or": " or ", ";": "; "}


class _English(string.Formatter):
    """Fills a template as the domain has always written it: days and moments in ISO 8601, lists
    joined as their spec says, labels as their values."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Refusal):
            return value.english()
        if isinstance(value, list | tuple):
            return LIST_JOINS[format_spec].join(self.format_field(v, "") for v in value)
        if isinstance(value, datetime | date) and not format_spec:
            return value.isoformat()
        return str(super().format_field(value, format_spec))


ENGLISH = _English()


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal's words as data: the English template and the values it names."""

    template: str
    params: Mapping[str, Value] = field(default_factory=dict)

    def __init__(self, template: str, /, **params: Value) -> None:
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "params", {k: _normal(v) for k, v in params.items()})

    def english(self) -> str:
        """The words the domain says (a template without values is said as it is written)."""
        return ENGLISH.vformat(self.template, (), dict(self.params)) if self.params else self.template

    def __str__(self) -> str:
        return self.english()

    def to_data(self) -> dict[str, Any]:
        """As JSON can carry it (across the workflow boundary, in a problem document)."""
        return {"template": self.template, "params": {k: _to_data(v) for k, v in self.params.items()}}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Refusal:
        params = data.get("params") or {}
        return cls(str(data["template"]), **{str(k): _from_data(v) for k, v in params.items()})


def _normal(value: Any) -> Value:
    if isinstance(value, Enum):
        return Label.of(value)
    if isinstance(value, list | tuple):
        return tuple(_normal(v) for v in value)
    return value  # type: ignore[no-any-return]


def _to_data(value: Value) -> dict[str, Any]:
    # Tagged, so a day stays a day and a label a label on the other side.
    match value:
        case Refusal():
            return {"refusal": value.to_data()}
        case Label():
            return {"label": [value.kind, value.value]}
        case Quoted():
            return {"quoted": [str(value), value.gist.to_data()]}
        case English():
            return {"english": str(value)}
        case None | bool() | str():
            return {"str": str(value)}
        case int():
            return {"int": value}
        case float():
            return {"float": value}
        case Decimal():
            return {"decimal": str(value)}
        case datetime():
            return {"datetime": value.isoformat()}
        case date():
            return {"date": value.isoformat()}
        case _:
            return {"list": [_to_data(v) for v in value]}


def _from_data(data: Mapping[str, Any]) -> Value:
    ((tag, value),) = data.items()
    match tag:
        case "refusal":
            return Refusal.from_data(value)
        case "label":
            return Label(*value)
        case "int":
            return int(value)
        case "float":
            return float(value)
        case "decimal":
            return Decimal(value)
        case "datetime":
            return datetime.fromisoformat(value)
        case "date":
            return date.fromisoformat(value)
        case "list":
            return tuple(_from_data(v) for v in value)
        case "english":
            return English(value)
        case "quoted":
            words, gist = value
            return Quoted(words, Refusal.from_data(gist))
        case _:
            return str(value)


class DomainError(Exception):
    """Base of every refusal the domain makes: `refusal` is its words as data, `str(e)` in English."""

    refusal: Refusal

    def __init__(self, template: str | Refusal, /, **params: Value) -> None:
        self.refusal = template if isinstance(template, Refusal) else Refusal(template, **params)
        super().__init__(self.refusal.english())


class InvalidCommand(DomainError):
    """A command that can never be allowed as given: an unknown standard version or criterion."""


class CommandRejected(DomainError):
    """A command that the rules do not allow now.

    The message says why and, where useful, what is allowed instead (`reason` is the why alone).
    """

    def __init__(
        self, template: str | Refusal, /, *, allowed: list[str] | None = None, **params: Value
    ) -> None:
        because = template if isinstance(template, Refusal) else Refusal(template, **params)
        self.reason = because.english()
        self.allowed = allowed or []
        if self.allowed:
            commands = [Label("Command", name) for name in self.allowed]
            because = Refusal("{reason} (allowed now: {allowed})", reason=because, allowed=commands)
        super().__init__(because)


class TooFrequent(CommandRejected):
    """A command given more often than the programme allows (a flood of snapshots): allowed again
    at `retry_at`."""

    def __init__(self, template: str | Refusal, /, *, retry_at: datetime, **params: Value) -> None:
        self.retry_at = retry_at
        because = template if isinstance(template, Refusal) else Refusal(template, **params)
        super().__init__(
            Refusal(
                "{reason}; try again after {retry_at:%Y-%m-%d %H:%M} UTC", reason=because, retry_at=retry_at
            )
        )


class IneligibleCity(CommandRejected):
    """A city outside the programme's eligibility rules."""
