"""A country as people type it (app/countries.py): an ISO code or a name in English, Spanish or
Portuguese becomes the two-letter code the domain records; anything else is refused in words."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from app.countries import CountryNameOrCode, UnknownCountry, resolve_country


class TestCodes:
    @pytest.mark.parametrize(("given", "code"), [("CA", "CA"), ("ca", "CA"), (" br ", "BR"), ("Us", "US")])
    def test_an_alpha_2_code_in_any_case_is_that_code(self, given: str, code: str) -> None:
        assert resolve_country(given) == code

    @pytest.mark.parametrize(("given", "code"), [("CAN", "CA"), ("bra", "BR"), ("USA", "US"), ("mex", "MX")])
    def test_an_alpha_3_code_is_its_alpha_2(self, given: str, code: str) -> None:
        assert resolve_country(given) == code

    def test_two_letters_that_are_no_code_are_refused(self) -> None:
        with pytest.raises(UnknownCountry, match="'ZZ' is not a country name or code we know"):
            resolve_country("ZZ")


class TestNames:
    @pytest.mark.parametrize(
        ("name", "code"),
        [
            # English
            ("Canada", "CA"),
            ("United States", "US"),
            ("United States of America", "US"),
            ("Brazil", "BR"),
            ("Mexico", "MX"),
            ("Dominican Republic", "DO"),
            ("Bolivia", "BO"),
            ("Venezuela", "VE"),
            # Spanish
            ("Estados Unidos", "US"),
            ("México", "MX"),
            ("Canadá", "CA"),
            ("Ecuador", "EC"),
            ("Perú", "PE"),
            ("República Dominicana", "DO"),
            ("Trinidad y Tobago", "TT"),
            # Portuguese
            ("Brasil", "BR"),
            ("Equador", "EC"),
            ("Estados Unidos da América", "US"),
            ("Trindade e Tobago", "TT"),
        ],
    )
    def test_a_name_in_english_spanish_or_portuguese_is_its_code(self, name: str, code: str) -> None:
        assert resolve_country(name) == code

    @pytest.mark.parametrize("name", ["mexico", "MEXICO", "Méjico", "méxico", "  México  ", "MÉXICO"])
    def test_accents_case_and_spaces_are_forgiven(self, name: str) -> None:
        assert resolve_country(name) == "MX"

    @pytest.mark.parametrize("name", ["EE. UU.", "EEUU", "U.S.A.", "the United States", "estados   unidos"])
    def test_the_everyday_short_forms_of_a_name_are_known(self, name: str) -> None:
        assert resolve_country(name) == "US"

    def test_saint_may_be_written_st(self) -> None:
        assert resolve_country("St. Kitts and Nevis") == resolve_country("Saint Kitts and Nevis") == "KN"

    def test_a_name_and_a_code_are_never_confused(self) -> None:
        """Dominica (DM) and the Dominican Republic (DO); the Mexican "Estados Unidos Mexicanos"
        is not the United States."""
        assert resolve_country("Dominica") == "DM"
        assert resolve_country("Estados Unidos Mexicanos") == "MX"


class TestRefusals:
    def test_an_unknown_name_is_refused_saying_what_to_send(self) -> None:
        with pytest.raises(UnknownCountry) as refused:
            resolve_country("Canadia")
        assert str(refused.value) == (
            "'Canadia' is not a country name or code we know; send an ISO 3166 code such as CA, "
            "or the country's name in English, Spanish or Portuguese"
        )

    @pytest.mark.parametrize("name", ["Korea", "Virgin Islands", "Islas Vírgenes"])
    def test_a_name_that_fits_more_than_one_country_is_refused_naming_them(self, name: str) -> None:
        with pytest.raises(UnknownCountry, match="may be more than one country") as refused:
            resolve_country(name)
        assert "send the ISO 3166 code of the one you mean" in str(refused.value)

    def test_the_candidates_are_named_with_their_codes(self) -> None:
        with pytest.raises(UnknownCountry) as refused:
            resolve_country("Korea")
        assert "North Korea (KP)" in str(refused.value) and "South Korea (KR)" in str(refused.value)
        assert resolve_country("South Korea") == "KR"

    @pytest.mark.parametrize("text", ["", "   ", "C", "Canada!!1", "12"])
    def test_text_that_is_no_country_is_refused(self, text: str) -> None:
        with pytest.raises(UnknownCountry, match="is not a country name or code we know"):
            resolve_country(text)


class Registration(BaseModel):
    country: CountryNameOrCode


class TestAsAField:
    def test_a_body_keeps_the_code(self) -> None:
        assert Registration(country="Brasil").country == "BR"

    def test_a_refusal_is_the_sentence_not_a_pattern(self) -> None:
        with pytest.raises(ValidationError) as refused:
            Registration(country="Canadia")
        [problem] = refused.value.errors()
        assert problem["loc"] == ("country",)
        assert str(problem["msg"]).startswith("Value error, 'Canadia' is not a country name or code we know")

    @pytest.mark.parametrize("value", [12, None, ["CA"], "C" * 101])
    def test_anything_but_bounded_text_is_refused(self, value: object) -> None:
        with pytest.raises(ValidationError):
            Registration.model_validate({"country": value})

    def test_the_schema_says_a_code_or_a_name_with_examples(self) -> None:
        schema = Registration.model_json_schema()["properties"]["country"]
        assert schema["type"] == "string" and "pattern" not in schema
        assert {"CA", "Canada", "Brasil", "Estados Unidos"} <= set(schema["examples"])
        assert "English, Spanish or Portuguese" in schema["description"]
