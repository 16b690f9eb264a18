"""A person's fields (domain/people.py): what makes a person citycert may keep, and the words a
refusal reads in."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.people import (
    EMAIL_RULE,
    Email,
    Language,
    NewCityStaff,
    NewCommitteeMember,
    NewPerson,
    NewReviewer,
    PersonChanges,
    PersonRole,
    is_person_id,
    new_person,
)

ANA = {"name": "Ana Souza", "email": "ana.souza@example.org", "language": "pt"}


def refusal(build: Any) -> str:
    """The one message a person reads when `build()` refuses."""
    with pytest.raises(ValidationError) as info:
        build()
    [error] = info.value.errors()
    return str(error["msg"]).removeprefix("Value error, ")


class TestEmail:
    @pytest.mark.parametrize(
        "email", ["ana@example.org", "Ana.Souza+cert@mail.city.gov", "o'neil@example.co.uk", "x@a-b.io"]
    )
    def test_an_address_as_people_type_it_is_kept_as_given(self, email: str) -> None:
        assert TypeAdapter(Email).validate_python(email) == email

    @pytest.mark.parametrize(
        "email",
        [
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "ana@@example.org",
            "ana souza@example.org",
            " ana@example.org",
            "ana..souza@example.org",
            ".ana@example.org",
            "ana@-example.org",
            "ana@example.org\x00",
            "Ana <ana@example.org>",
            "",
        ],
    )
    def test_anything_else_is_refused_with_the_rule_in_words(self, email: str) -> None:
        assert refusal(lambda: TypeAdapter(Email).validate_python(email)) == EMAIL_RULE

    def test_the_part_before_the_at_sign_is_at_most_64_characters(self) -> None:
        TypeAdapter(Email).validate_python("a" * 64 + "@example.org")
        message = refusal(lambda: TypeAdapter(Email).validate_python("a" * 65 + "@example.org"))
        assert message == "the part of an e-mail address before the @ is at most 64 characters"

    def test_an_address_is_at_most_254_characters(self) -> None:
        host = ".".join(["a" * 61] * 4) + ".org"  # 251 characters
        TypeAdapter(Email).validate_python("a@" + host)
        with pytest.raises(ValidationError, match="at most 254 characters"):
            TypeAdapter(Email).validate_python("ana.souza@" + host)


class TestNewPerson:
    def test_given_city_staff_with_their_city_then_the_person_is_city_staff_of_it(self) -> None:
        person = new_person({**ANA, "role": "city", "city_id": "lakeside"})

        assert isinstance(person, NewCityStaff)
        assert (person.role, person.bound_city, person.language) == (PersonRole.CITY, "lakeside", Language.PT)

    def test_given_a_reviewer_then_their_city_is_their_home_city(self) -> None:
        person = new_person({**ANA, "role": "reviewer", "city_id": "riverton"})

        assert isinstance(person, NewReviewer) and person.bound_city == "riverton"

    def test_given_a_committee_member_then_they_have_no_city(self) -> None:
        person = new_person({**ANA, "role": "committee"})

        assert isinstance(person, NewCommitteeMember) and person.bound_city is None

    @pytest.mark.parametrize(
        ("role", "message"),
        [
            ("city", "city staff needs city_id: the city they work for"),
            ("reviewer", "a reviewer needs city_id: their home city"),
        ],
    )
    def test_a_role_bound_to_a_city_needs_one(self, role: str, message: str) -> None:
        assert refusal(lambda: new_person({**ANA, "role": role})) == message
        assert refusal(lambda: new_person({**ANA, "role": role, "city_id": None})) == message

    @pytest.mark.parametrize(
        ("role", "who"), [("committee", "a committee member"), ("operator", "an operator")]
    )
    def test_a_role_without_a_city_refuses_a_stray_one(self, role: str, who: str) -> None:
        message = refusal(lambda: new_person({**ANA, "role": role, "city_id": "lakeside"}))

        assert message == f"{who} is not bound to a city; leave out city_id"

    def test_an_unknown_language_is_refused_naming_the_known_ones(self) -> None:
        message = refusal(lambda: new_person({**ANA, "language": "fr", "role": "committee"}))

        assert message == "unknown language 'fr': citycert speaks en, es, pt"

    def test_an_unknown_role_is_refused_naming_the_known_ones(self) -> None:
        message = refusal(lambda: new_person({**ANA, "role": "mayor"}))

        assert (
            message == "unknown role 'mayor'; a person's role is one of city, reviewer, committee, operator"
        )

    def test_a_name_follows_the_rule_of_every_name(self) -> None:
        with pytest.raises(ValidationError, match="must be one line"):
            new_person({**ANA, "name": "Ana\nSouza", "role": "committee"})

    def test_the_schema_states_which_roles_take_a_city(self) -> None:
        schema = NewPerson.model_json_schema()
        defs = schema["$defs"]

        assert set(schema["discriminator"]["mapping"]) == {"city", "reviewer", "committee", "operator"}
        assert "city_id" in defs["NewCityStaff"]["required"] and "city_id" in defs["NewReviewer"]["required"]
        assert "city_id" not in defs["NewCommitteeMember"]["properties"]
        assert defs["NewCommitteeMember"]["additionalProperties"] is False


class TestPersonChanges:
    def test_what_is_left_out_stays(self) -> None:
        changes = PersonChanges.model_validate({"language": "es"})

        assert (changes.name, changes.email, changes.language) == (None, None, Language.ES)

    def test_a_change_that_changes_nothing_is_refused(self) -> None:
        assert (
            refusal(lambda: PersonChanges.model_validate({})) == "give at least one of name, email, language"
        )

    def test_role_and_city_do_not_change(self) -> None:
        with pytest.raises(ValidationError, match="Extra inputs"):
            PersonChanges.model_validate({"name": "Ana", "role": "operator"})

    def test_a_new_address_follows_the_same_rule(self) -> None:
        assert refusal(lambda: PersonChanges.model_validate({"email": "not an address"})) == EMAIL_RULE


def test_a_person_id_is_per_and_16_hex_digits() -> None:
    assert is_person_id("per_0123456789abcdef")
    assert not is_person_id("per_0123456789ABCDEF") and not is_person_id("lakeside")
