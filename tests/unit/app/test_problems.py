"""A refusal in words (app/problems.py): every constraint a body breaks reads as a sentence naming
the field and what to send, never a regex; the API and the CLI render it the same way."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from app.problems import PATTERN_RULES, field_of, in_words
from domain import ids, people, rounds
from domain.commands import MAX_POPULATION
from entrypoints.http import models as m
from entrypoints.http.errors import _errors

# What a pattern looks like when it leaks into a message.
REGEX = re.compile(r"\^|\$|\[\^|\\x|\\u|\]\*|\]\+|\{\d+,\d*\}|should match pattern")


def problems(model: type[BaseModel], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The problems the API answers for `body` (as its handler renders them)."""
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    return _errors([{**e, "loc": ("body", *e["loc"])} for e in refused.value.errors()])


def said(model: type[BaseModel], body: dict[str, Any]) -> dict[str, str]:
    """Field (the location's last name) -> the message."""
    return {".".join(str(p) for p in problem["loc"][1:]): problem["msg"] for problem in problems(model, body)}


BAD_BODIES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (m.RegisterCityBody, {"id": "Lake Side", "name": "two\nlines", "country": "Canadia", "population": -1}),
    (m.RegisterCityBody, {"id": "x" * 64, "name": "", "country": "C" * 101, "population": 10**12}),
    (m.RegisterCityBody, {"id": 7, "name": None, "country": 12, "population": "many", "region": "Ontario"}),
    (m.ImportCertificationBody, {"level": "bronze", "standard_version": "a\x00b", "round_id": "c" * 201}),
    (m.ImportCertificationBody, {"valid_from": "2024-06-01T00:00:00Z", "valid_until": "tomorrow"}),
    (m.ApplicationBody, {"round_id": "\u202eevil", "standard_version": "wwc-2022"}),
    (m.AppealBody, {"grounds": "\x07"}),
    (m.AppealDecisionBody, {"upheld": "maybe", "rationale": "x" * 10_001}),
    (m.EvidenceBody, {"items": []}),
    (
        m.EvidenceBody,
        {"items": [{"criterion_id": "C" * 33, "documents": [{"title": "t", "url": "http://x.org"}]}]},
    ),
    (m.EvidenceBody, {"items": [{"criterion_id": "C", "documents": [{"document_id": "not-hex"}]}]}),
    (m.ReviewerAssignmentBody, {"reviewer_id": "r", "reviewer_home_city": "River Town", "criterion_ids": []}),
]


@pytest.mark.parametrize(
    ("model", "body"), BAD_BODIES, ids=lambda v: v.__name__ if isinstance(v, type) else ""
)
def test_no_refusal_quotes_a_pattern_and_each_names_its_field(
    model: type[BaseModel], body: dict[str, Any]
) -> None:
    for problem in problems(model, body):
        assert not REGEX.search(problem["msg"]), problem
        assert not problem["msg"].startswith(("Input should", "String should", "Value error")), problem
        field = field_of(problem["loc"][1:])
        if field is not None:
            assert problem["msg"].startswith(field) or problem["type"] == "value_error", problem


def test_a_registration_says_what_each_field_must_be() -> None:
    assert said(
        m.RegisterCityBody, {"id": "Lake Side", "name": "two\nlines", "country": "Canadia", "population": -1}
    ) == {
        "id": "id must be a city id: 2 to 63 lowercase letters, digits or hyphens, not starting with a "
        "hyphen, such as lakeside",
        "name": f"name {ids.LINE_RULE}",
        "country": "'Canadia' is not a country name or code we know; send an ISO 3166 code such as CA, "
        "or the country's name in English, Spanish or Portuguese",
        "population": "population must be at least 0",
    }


def test_limits_are_named_with_their_numbers() -> None:
    words = said(m.RegisterCityBody, {"id": "ok-city", "name": "", "country": "CA", "population": 10**12})
    assert words == {
        "name": "name must not be empty",
        "population": f"population must be at most {MAX_POPULATION:,}",
    }
    assert said(m.AppealBody, {"grounds": "g" * 10_001}) == {
        "grounds": "grounds must be at most 10,000 characters"
    }
    assert said(m.EvidenceBody, {"items": []}) == {"items": "items must have at least 1 item"}


def test_types_choices_and_missing_fields_are_named() -> None:
    words = said(m.AppealDecisionBody, {"upheld": "maybe", "level": "bronze", "extra": 1})
    assert words == {
        "upheld": "upheld must be true or false",
        "level": "level must be one of 'silver', 'gold' or 'platinum'",
        "rationale": "rationale is required",
        "extra": "extra is not a field this request takes",
    }


def test_a_date_that_is_a_moment_is_refused_asking_for_the_day() -> None:
    words = said(
        m.ImportCertificationBody, {"valid_from": "2024-06-01T00:00:00Z", "valid_until": "2027-02-30"}
    )
    assert words["valid_from"] == "valid_from must be an ISO 8601 date, such as 2026-03-01"
    assert words["valid_until"].startswith("valid_until must be a date")


def test_a_site_visit_without_its_action_names_the_discriminator() -> None:
    from pydantic import TypeAdapter

    with pytest.raises(ValidationError) as refused:
        TypeAdapter(m.SiteVisitBody).validate_python({"action": "dance"})
    [problem] = _errors([{**e, "loc": ("body", *e["loc"])} for e in refused.value.errors()])
    assert problem["msg"] == "action must be one of 'schedule', 'complete', 'waive', 'reschedule'"


def test_a_body_that_is_no_object_says_so() -> None:
    [problem] = problems(m.AppealBody, [])  # type: ignore[arg-type]
    assert problem["msg"] == "the body must be an object"


def test_every_pattern_of_the_domain_has_its_rule_in_words() -> None:
    patterns = {
        f"{module.__name__}.{name}": value
        for module in (ids, people, rounds)
        for name, value in vars(module).items()
        if name.endswith("_PATTERN")
    }
    assert patterns, "domain/ids.py states its rules as patterns"
    for name, pattern in patterns.items():
        assert pattern in PATTERN_RULES, f"{name} has no rule in words in app/problems.py"
        assert not REGEX.search(PATTERN_RULES[pattern])


def test_a_pattern_failure_from_pydantic_itself_is_worded_from_the_table() -> None:
    """Query parameters are checked by FastAPI with their pattern alone (no domain type)."""
    problem = {
        "type": "string_pattern_mismatch",
        "loc": ("cohort",),
        "msg": "String should match pattern '^[^\\x00]*$'",
        "ctx": {"pattern": r"^[^\x00]*$"},
    }
    assert in_words(problem, "cohort") == "cohort must not contain NUL characters"
    unknown = {**problem, "ctx": {"pattern": "^a+$"}}
    assert not REGEX.search(in_words(unknown, "cohort"))


@pytest.mark.parametrize(
    ("loc", "field"),
    [
        (("name",), "name"),
        (("items", 0, "criterion_id"), "criterion_id"),
        (("items", 0, "documents", 0, "DocumentLink", "url"), "url"),
        (("answers", "DM 1"), "answers"),
        ((), None),
    ],
)
def test_the_field_is_the_last_name_in_the_location(loc: tuple[str | int, ...], field: str | None) -> None:
    assert field_of(loc) == field
