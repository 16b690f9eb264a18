"""What the CLI says about input it refuses, before it touches anything: the words the API gives
(app/problems.py, app/countries.py), each naming the option, never a pattern."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner, Result

from entrypoints.cli.main import app
from entrypoints.http.errors import _errors
from entrypoints.http.models import RegisterCityBody

runner = CliRunner()
REGEX = re.compile(r"\^|\$|\[\^|\\x|should match pattern")


def said(result: Result) -> str:
    return " ".join(result.stderr.split())


def register(*, country: str = "CA", name: str = "Lakeside", city_id: str = "lakeside") -> Result:
    args = ["city", "register", city_id, "--name", name, "--country", country, "--population", "90000"]
    return runner.invoke(app, args)


def test_an_unknown_country_is_refused_saying_what_to_send() -> None:
    result = register(country="Canadia")
    assert result.exit_code == 2
    assert said(result) == (
        "error: --country: 'Canadia' is not a country name or code we know; send an ISO 3166 code "
        "such as CA, or the country's name in English, Spanish or Portuguese"
    )


def test_an_ambiguous_country_is_refused_naming_the_candidates() -> None:
    result = register(country="Korea")
    assert result.exit_code == 2 and "(KP)" in said(result) and "(KR)" in said(result)


def test_a_name_with_a_line_break_names_the_option_and_the_rule() -> None:
    result = register(name="two\nlines")
    assert result.exit_code == 2
    assert said(result).startswith("error: --name must be one line of text")
    assert not REGEX.search(result.stderr)


def test_the_cli_says_what_the_api_says_naming_the_option_instead_of_the_field() -> None:
    body = {"id": "lakeside", "name": "n" * 201, "country": "CA", "population": 90_000}
    with pytest.raises(ValidationError) as refused:
        RegisterCityBody.model_validate(body)
    [problem] = _errors([{**e, "loc": ("body", *e["loc"])} for e in refused.value.errors()])
    assert problem["msg"] == "name must be at most 200 characters"
    assert said(register(name="n" * 201)) == "error: --name must be at most 200 characters"


def test_a_city_id_is_refused_with_the_rule_in_words() -> None:
    result = register(city_id="Lake Side")
    assert result.exit_code == 2
    assert "ID must be a city id: 2 to 63 lowercase letters, digits or hyphens" in said(result)


def propose(valid_from: str, valid_until: str) -> Result:
    args = ["import", "propose", "lakeside", "--level", "gold", "--standard", "wwc-2018", "--round", "2024"]
    return runner.invoke(app, [*args, "--valid-from", valid_from, "--valid-until", valid_until])


def test_an_import_takes_days_not_moments() -> None:
    result = propose("2024-06-01T00:00:00Z", "2027-05-31")
    assert result.exit_code == 2
    assert (
        said(result) == "error: --valid-from must be a date, such as 2024-06-01, not '2024-06-01T00:00:00Z'"
    )
    assert "--valid-until must be a date" in said(propose("2024-06-01", "2027-02-30"))


def test_an_import_whose_last_day_comes_before_its_first_is_refused() -> None:
    result = propose("2024-06-01", "2024-05-31")
    assert result.exit_code == 2
    assert "--valid-until, the certification's last day, must not be before --valid-from" in said(result)
