"""The people who use citycert, as values: who they are (name, e-mail, language) and what they do
(a role, bound to a city for city staff and reviewers). The one place their fields' rules live:
the HTTP API's bodies are these models, the CLI builds them from its options.

A person's details are personal data: they live in the mutable `people` table, never in an event
(events name people by id), so erasing a person never touches the append-only log.

The rules are stated in the schema as well (patterns, lengths, which role takes a city, as a union
on `role`), so the OpenAPI document says what is accepted; a refusal reads in words.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from domain.ids import CityId, Name, Text
from domain.standard import available_versions, get_standard, revisions

PERSON_ID_PATTERN = r"^per_[0-9a-f]{16}$"
_PERSON_ID = re.compile(PERSON_ID_PATTERN)
EMAIL_MAX = 254  # RFC 5321: the longest address a mail server relays
EMAIL_LOCAL_MAX = 64
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A mailbox as people type it (RFC 5322's dot-atom at a host name with a top-level domain of
# letters): no quoted local parts, no IP literals, no spaces, no display name.
EMAIL_PATTERN = f"^{_ATOM}(?:\\.{_ATOM})*@(?:{_LABEL}\\.)+[A-Za-z]{{2,63}}$"
EMAIL_RULE = "an e-mail address is name@example.org: one @, a host name with a dot, no spaces"


def is_person_id(value: str) -> bool:
    """Whether `value` could be a person's id (for a path or an argument, before any lookup)."""
    return _PERSON_ID.fullmatch(value) is not None


class Language(StrEnum):
    """The languages citycert writes to people in."""

    EN = "en"
    ES = "es"
    PT = "pt"


class PersonRole(StrEnum):
    """What a person does in the programme; the same names as the API tokens' roles."""

    CITY = "city"  # staff of a city (its contacts)
    REVIEWER = "reviewer"  # reviews other cities' evidence; has a home city it never reviews
    COMMITTEE = "committee"  # decides levels and appeals
    OPERATOR = "operator"  # runs citycert


BOUND_ROLES = frozenset({PersonRole.CITY, PersonRole.REVIEWER})  # the roles that carry a city


def _local_part(value: str) -> str:
    if len(value.partition("@")[0]) > EMAIL_LOCAL_MAX:
        raise ValueError(
            f"the part of an e-mail address before the @ is at most {EMAIL_LOCAL_MAX} characters"
        )
    return value


def _in_words(rule: str, *, types: tuple[str, ...]) -> WrapValidator:
    """A refusal of these pydantic error types, told as `rule` (the schema keeps the pattern)."""

    def check(value: object, handler: ValidatorFunctionWrapHandler) -> object:
        try:
            return handler(value)
        except ValidationError as e:
            if any(err["type"] in types for err in e.errors()):
                raise ValueError(rule) from None
            raise

    return WrapValidator(check)


Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=EMAIL_MAX, pattern=EMAIL_PATTERN),
    _in_words(EMAIL_RULE, types=("string_pattern_mismatch", "string_too_short")),
    AfterValidator(_local_part),
]
"""A person's e-mail address, kept as given; two addresses are the same person's whatever their
case (the store compares them lower-cased)."""


def _language_in_words(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError as e:
        if any(err["type"] == "enum" for err in e.errors()):
            known = ", ".join(lang.value for lang in Language)
            raise ValueError(f"unknown language {value!r}: citycert speaks {known}") from None
        raise


LanguageCode = Annotated[Language, WrapValidator(_language_in_words)]


class _Fields(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name = Field(examples=["Ana Souza"])
    email: Email = Field(examples=["ana.souza@example.org"])
    language: LanguageCode = Field(description="en, es or pt: the language citycert writes in")

    @property
    def bound_city(self) -> str | None:
        """The city of city staff or a reviewer's home city; None for the other roles."""
        city: str | None = getattr(self, "city_id", None)
        return city


class NewCityStaff(_Fields):
    """Someone who works for a city: one of its contacts while active."""

    role: Literal[PersonRole.CITY]
    city_id: CityId = Field(description="the city they work for (registered)", examples=["lakeside"])


class NewReviewer(_Fields):
    role: Literal[PersonRole.REVIEWER]
    city_id: CityId = Field(
        description="the reviewer's home city, which they never review", examples=["riverton"]
    )


class NewCommitteeMember(_Fields):
    role: Literal[PersonRole.COMMITTEE]


class NewOperator(_Fields):
    role: Literal[PersonRole.OPERATOR]


_NEW_BY_ROLE: dict[str, type[_Fields]] = {
    PersonRole.CITY: NewCityStaff,
    PersonRole.REVIEWER: NewReviewer,
    PersonRole.COMMITTEE: NewCommitteeMember,
    PersonRole.OPERATOR: NewOperator,
}
_WHO = {
    PersonRole.CITY: ("city staff", "the city they work for"),
    PersonRole.REVIEWER: ("a reviewer", "their home city"),
    PersonRole.COMMITTEE: ("a committee member", ""),
    PersonRole.OPERATOR: ("an operator", ""),
}


AnyNewPerson = NewCityStaff | NewReviewer | NewCommitteeMember | NewOperator


class NewPerson(RootModel[Annotated[AnyNewPerson, Field(discriminator="role")]]):
    """A person to add: their details and role, with a city exactly when the role takes one."""

    # A root model (the person is `.root`), so the rule below runs before the union reads `role`:
    # FastAPI would apply a validator annotated on the union itself after the tag check.

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _binding_in_words(cls, value: Any) -> Any:
        """The union's own refusals, said as the rule: which roles take a city, which do not."""
        if isinstance(value, dict):
            role = value.get("role")
            if not isinstance(role, str) or role not in _NEW_BY_ROLE:
                known = ", ".join(r.value for r in PersonRole)
                raise ValueError(f"unknown role {role!r}; a person's role is one of {known}")
            who, city = _WHO[PersonRole(role)]
            if PersonRole(role) in BOUND_ROLES and value.get("city_id") is None:
                raise ValueError(f"{who} needs city_id: {city}")
            if PersonRole(role) not in BOUND_ROLES and "city_id" in value:
                raise ValueError(f"{who} is not bound to a city; leave out city_id")
        return value


def new_person(fields: dict[str, Any]) -> AnyNewPerson:
    """A person to add from plain fields (the CLI's options); raises pydantic's ValidationError
    with the rule in words."""
    return NewPerson.model_validate(fields).root


class PersonChanges(BaseModel):
    """New details for a person; what is left out (or null) stays as it is. Role and city do not
    change: a person who moves on is deactivated and added again in their new role."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra={"minProperties": 1})

    name: Name | None = None
    email: Email | None = None
    language: LanguageCode | None = None

    @model_validator(mode="before")
    @classmethod
    def _something(cls, value: Any) -> Any:
        if isinstance(value, dict) and all(value.get(k) is None for k in ("name", "email", "language")):
            raise ValueError("give at least one of name, email, language")
        return value


class Person(BaseModel):
    """A person as citycert knows them. After an erasure only what events may refer to is left:
    the id, the role and city, and when they were added, deactivated and erased."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(examples=["per_3f2a9c0d1e4b5a6f"])
    role: PersonRole
    city_id: str | None
    name: str | None = Field(description="null once erased")
    email: str | None = Field(description="null once erased")
    language: Language | None = Field(description="null once erased")
    active: bool = Field(description="false once deactivated (or erased)")
    created_at: datetime
    deactivated_at: datetime | None
    erased_at: datetime | None


# --- a reviewer's profile ------------------------------------------------------------------------

MAX_PRACTICE_AREAS = 20
MAX_CONFLICTS = 100
MAX_CAPACITY = 500  # open criteria at once: a command's own bound on items


@cache
def known_practice_areas() -> frozenset[str]:
    """The practice area ids of every shipped standard (a reviewer may review a 2018 area too)."""
    return frozenset(
        area.id
        for version in available_versions()
        for revision in revisions(version)
        for area in get_standard(version, revision).practice_areas
    )


def _known_area(value: str) -> str:
    if value not in known_practice_areas():
        raise ValueError(
            f"{value!r} is not a practice area of any standard; "
            f"the areas: {', '.join(sorted(known_practice_areas()))}"
        )
    return value


PracticeAreaId = Annotated[str, StringConstraints(min_length=1, max_length=40), AfterValidator(_known_area)]


class DeclaredConflict(BaseModel):
    """A city the reviewer may never review, and why (the relationship, not other people's details)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    city_id: CityId = Field(examples=["lakeside"])
    reason: Text = Field(examples=["consulted for the city's data office in 2025"])


class ReviewerProfile(BaseModel):
    """What assignment reads of a reviewer: who they work for, the practice areas they review, how
    many open criteria they take at once, and the cities they declared conflicts with. Their home
    city is their person record's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    organisation: Name = Field(examples=["Results for America"])
    practice_areas: list[PracticeAreaId] = Field(
        min_length=1,
        max_length=MAX_PRACTICE_AREAS,
        description="the standard's practice area ids",
        examples=[["DM"]],
    )
    capacity: int = Field(
        ge=1, le=MAX_CAPACITY, description="the most open criteria they take at once", examples=[10]
    )
    conflicts: list[DeclaredConflict] = Field(default=[], max_length=MAX_CONFLICTS)

    @model_validator(mode="after")
    def _each_once(self) -> ReviewerProfile:
        for what, values in (
            ("practice area", self.practice_areas),
            ("conflict city", [c.city_id for c in self.conflicts]),
        ):
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{what} named more than once: {', '.join(repeated)}")
        return self

    @property
    def conflict_cities(self) -> list[str]:
        return [c.city_id for c in self.conflicts]


class StoredReviewerProfile(BaseModel):
    """A reviewer's profile as kept: whose, and when it last changed. After an erasure the
    organisation and conflicts are gone with the person's other details."""

    model_config = ConfigDict(frozen=True)

    person_id: str = Field(examples=["per_3f2a9c0d1e4b5a6f"])
    organisation: str | None = Field(description="null once the person is erased")
    practice_areas: list[str]
    capacity: int
    conflicts: list[DeclaredConflict]
    updated_at: datetime

    @property
    def conflict_cities(self) -> list[str]:
        return [c.city_id for c in self.conflicts]
