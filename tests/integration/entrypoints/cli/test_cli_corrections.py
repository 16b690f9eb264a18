"""`citycert city register --region`, `city correct`, `import past` and `review reopen` against a
real PostgreSQL and a real Temporal dev server with a real worker (the fixtures of test_cli_cities)."""

from __future__ import annotations

from app.tokens import create_token
from tests.integration.entrypoints.cli import test_cli_cities as cli_cities
from tests.integration.entrypoints.cli.test_cli_cities import Cli, Programme, said, unique
from tests.scenarios import CRITERIA, apply, assigned_and_declared, evidence, review

# The CLI tests' fixtures: a dev server and a worker on this test's database, logging put back.
programme = cli_cities.programme
restore_logging = cli_cities.restore_logging


async def test_a_city_registered_with_its_region_is_corrected_and_its_history_imported(
    programme: Programme,
) -> None:
    cli, city_id = programme.cli, unique("aspen")
    registered = await cli.json(
        "city", "register", city_id, "--name", "Aspen", "--country", "US", "--population", "90000",
        "--region", "Ohio", "--population-source", "US Census", "--population-year", "2020",
    )  # fmt: skip
    assert registered["status"]["region"] == "Ohio"

    corrected = await cli.json(
        "city", "correct", city_id, "--region", "Indiana", "--population", "91000", "--reason", "wrong state"
    )
    [event] = corrected["events"]
    assert (event["type"], event["data"]["region"], event["data"]["population"]) == (
        "CityProfileCorrected", "Indiana", 91_000,
    )  # fmt: skip
    assert event["data"]["corrected_by"].startswith("cli:")
    again = await cli("city", "correct", city_id, "--region", "Indiana", "--reason", "again")
    assert again.exit_code == 2 and "nothing to correct" in said(again)
    shown = await cli("city", "show", city_id)
    assert "Indiana, US" in shown.stdout
    listed = await cli("city", "list")
    assert listed.exit_code == 0 and "Indiana" in listed.stdout

    past = await cli.json(
        "import", "past", city_id, "--level", "silver", "--standard", "wwc-2018", "--round", "2019",
        "--valid-from", "2019-06-01", "--valid-until", "2022-06-01",
    )  # fmt: skip
    [imported] = past["events"]
    assert (imported["type"], imported["data"]["valid_until"]) == (
        "PastCertificationImported",
        "2022-06-01T00:00:00Z",
    )
    assert past["status"]["level"] is None, "history certifies nothing"
    not_a_date = await cli(
        "import", "past", city_id, "--level", "silver", "--standard", "wwc-2018", "--round", "2019",
        "--valid-from", "June 2019", "--valid-until", "2022-06-01",
    )  # fmt: skip
    assert not_a_date.exit_code == 2 and "--valid-from must be a date, such as 2024-06-01" in said(not_a_date)


async def test_review_reopen_needs_the_cycles_lead_reviewer(programme: Programme) -> None:
    cli, city_id = programme.cli, unique("beech")
    await cli.json("city", "register", city_id, "--name", "Beech", "--country", "US", "--population", "80000")
    city = programme.city(city_id)
    steps = [apply("2026-fall"), evidence(CRITERIA[:1]), *assigned_and_declared(CRITERIA[:1])]
    assert await city.walk([*steps, review(approve=CRITERIA[:1])]) == []
    ana = Cli(
        {**cli.env, "CITYCERT_TOKEN": await create_token(programme.store, "reviewer", "riverton", "rev-ana")}
    )
    refused = await ana("review", "reopen", city_id, CRITERIA[0], "--reason", "wrong year")
    assert refused.exit_code == 2 and "only the lead may reopen" in said(refused)
    operator = Cli(
        {**cli.env, "CITYCERT_TOKEN": await create_token(programme.store, "operator", name="op-9")}
    )
    not_a_reviewer = await operator("review", "reopen", city_id, CRITERIA[0], "--reason", "wrong year")
    assert not_a_reviewer.exit_code == 2 and "needs the lead reviewer's token" in said(not_a_reviewer)
