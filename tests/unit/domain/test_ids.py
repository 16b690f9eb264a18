"""Ids and bounded text (domain/ids.py): one rule each, refused with words a person understands."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from domain import commands as c
from domain.ids import (
    CITY_ID_MESSAGE,
    COUNTRY_CODE_RULE,
    LINE_RULE,
    TEXT_RULE,
    CityId,
    CountryCode,
    CriterionId,
    Name,
    Note,
    Text,
)


def refusal(kind: Any, value: object) -> str:
    """The message a person reads when `value` is given where `kind` is expected."""
    with pytest.raises(ValidationError) as info:
        TypeAdapter(kind).validate_python(value)
    [error] = info.value.errors()
    return str(error["msg"]).removeprefix("Value error, ")


class TestCityId:
    @pytest.mark.parametrize("city_id", ["lakeside", "san-jose-2", "42nd-street", "ab", "a" * 63])
    def test_lowercase_letters_digits_and_hyphens_make_an_id(self, city_id: str) -> None:
        assert TypeAdapter(CityId).validate_python(city_id) == city_id

    @pytest.mark.parametrize("city_id", ["Lakeside", "lake side", "-lakeside", "a", "a" * 64, "lake_side"])
    def test_anything_else_is_refused_with_the_rule_in_words(self, city_id: str) -> None:
        rule = "2 to 63 lowercase letters, digits or hyphens, not starting with a hyphen, such as lakeside"
        assert refusal(CityId, city_id) == f"must be a city id: {rule}"
        assert refusal(CityId, city_id) == CITY_ID_MESSAGE

    def test_registering_a_city_applies_the_same_rule(self) -> None:
        with pytest.raises(ValidationError, match="must be a city id: 2 to 63 lowercase letters"):
            c.RegisterCity(city_id="Lakeside", name="Lakeside", country="US", population=50_000)


class TestCountryCode:
    @pytest.mark.parametrize(("given", "kept"), [("US", "US"), ("us", "US"), (" ca ", "CA")])
    def test_two_letters_are_upper_cased(self, given: str, kept: str) -> None:
        assert TypeAdapter(CountryCode).validate_python(given) == kept

    @pytest.mark.parametrize("country", ["USA", "U", "1A", "ÉS", ""])
    def test_anything_but_two_letters_is_refused_with_an_example(self, country: str) -> None:
        """The domain records codes only: names are resolved at the edge (app/countries.py)."""
        message = refusal(CountryCode, country)
        assert message == COUNTRY_CODE_RULE
        assert message == "must be the two letters of an ISO 3166-1 country code, such as US, CA or MX"

    def test_a_registration_in_lowercase_is_recorded_in_uppercase(self) -> None:
        command = c.RegisterCity(city_id="lakeside", name="Lakeside", country="us", population=50_000)
        assert command.country == "US"


class TestBoundedText:
    def test_a_name_is_stripped(self) -> None:
        assert TypeAdapter(Name).validate_python("  Lakeside  ") == "Lakeside"

    def test_a_name_holds_200_characters_and_no_more(self) -> None:
        assert TypeAdapter(Name).validate_python("n" * 200) == "n" * 200
        assert "at most 200 characters" in refusal(Name, "n" * 201)

    def test_text_holds_10000_characters_and_no_more(self) -> None:
        assert TypeAdapter(Text).validate_python("t" * 10_000) == "t" * 10_000
        assert "at most 10000 characters" in refusal(Text, "t" * 10_001)

    @pytest.mark.parametrize("kind", [Name, Text], ids=["Name", "Text"])
    def test_blank_text_is_refused(self, kind: Any) -> None:
        assert "at least 1 character" in refusal(kind, "   ")

    def test_a_note_may_be_empty_and_is_kept_as_written(self) -> None:
        assert TypeAdapter(Note).validate_python("") == ""
        assert TypeAdapter(Note).validate_python(" indented ") == " indented "

    def test_a_criterion_id_is_stripped_and_short(self) -> None:
        assert TypeAdapter(CriterionId).validate_python(" DM 1 ") == "DM 1"
        assert "at most 32 characters" in refusal(CriterionId, "C" * 33)

    @pytest.mark.parametrize(
        "kind", [Name, Text, Note, CriterionId], ids=["Name", "Text", "Note", "CriterionId"]
    )
    @pytest.mark.parametrize(
        "bad",
        [
            "before\x00after",
            "a bell\x07",
            "an escape \x1b[31m",
            "a C1\x85control",
            "Lakeside\u202e edisekaL",
        ],
        ids=["NUL", "bell", "escape", "C1", "bidi override"],
    )
    def test_every_text_type_refuses_controls_and_bidirectional_overrides(self, kind: Any, bad: str) -> None:
        assert refusal(kind, bad) == (TEXT_RULE if kind in (Text, Note) else LINE_RULE)

    def test_prose_may_have_tabs_and_line_breaks_a_name_may_not(self) -> None:
        assert TypeAdapter(Text).validate_python("first line\n\tsecond line") == "first line\n\tsecond line"
        assert refusal(Name, "two\nlines").startswith("must be one line")

    def test_a_lone_surrogate_is_refused_as_text_no_utf_8_can_hold(self) -> None:
        assert "unicode" in refusal(Note, "half a pair \ud800")


class TestCommandsUseThem:
    def test_a_nul_in_evidence_is_refused_by_the_command_naming_the_field(self) -> None:
        with pytest.raises(ValidationError) as info:
            c.EvidenceItem(
                criterion_id="DM 1",
                documents=[{"title": "Pack", "url": "https://example.org/pack.pdf"}],
                narrative="nul \x00 here",
            )
        [error] = info.value.errors()
        assert error["loc"] == ("narrative",)
        assert "must be text without NUL characters" in error["msg"]

    def test_a_rationale_longer_than_text_allows_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="rationale"):
            c.DecideLevel(level=None, rationale="r" * 10_001)

    def test_a_reviewer_home_city_is_a_city_id(self) -> None:
        with pytest.raises(ValidationError, match="reviewer_home_city"):
            c.AssignReviewer(reviewer_id="rev-ana", reviewer_home_city="River Town", criterion_ids=["DM 1"])
