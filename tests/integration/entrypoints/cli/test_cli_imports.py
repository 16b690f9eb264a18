"""`citycert import ...` and `citycert migration-mode ...` against a real PostgreSQL and a real
Temporal dev server with a real worker (the fixtures of test_cli_cities)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from app.programme import PROGRAMME_STREAM
from entrypoints.cli.context import operator_actor
from readmodel import city_stream
from tests.integration.entrypoints.cli import test_cli_cities as cli_cities
from tests.integration.entrypoints.cli.test_cli_cities import Programme, said, unique

# The CLI tests' fixtures: a dev server and a worker on this test's database, logging put back.
programme = cli_cities.programme
restore_logging = cli_cities.restore_logging


def period(days: int = 400, left: int = 600) -> list[str]:
    """The validity in days, as the API takes it: the day it was awarded, and its last day."""
    today = datetime.now(UTC).date()
    return [
        "--valid-from",
        (today - timedelta(days=days)).isoformat(),
        "--valid-until",
        (today + timedelta(days=left)).isoformat(),
    ]


def propose_args(city_id: str, level: str = "gold") -> list[str]:
    return ["import", "propose", city_id, "--level", level, "--standard", "wwc-2018", "--round", "2024"]


async def token_file(programme: Programme, name: str, folder: Path) -> str:
    """A committee member's token in a file of its own, as the CLI takes it (never in argv)."""
    created = await programme.cli("token", "create", "--role", "committee", "--name", name)
    assert created.exit_code == 0, created.stderr
    path = folder / f"{name}.token"
    path.write_text(created.stdout.strip())
    return str(path)


async def test_an_import_is_proposed_then_countersigned_by_another_person(
    programme: Programme, tmp_path: Path
) -> None:
    cli, city_id = programme.cli, unique("oakley")
    await cli.json(
        "city", "register", city_id, "--name", "Oakley", "--country", "US", "--population", "90000"
    )

    too_long = await cli(
        *propose_args(city_id, "platinum"),
        "--valid-from",
        datetime.now(UTC).date().isoformat(),
        "--valid-until",
        "2199-12-31",
    )
    assert too_long.exit_code == 2
    assert "at most the programme's validity (3 years)" in said(too_long)
    assert "not the end of 2199-12-31 (UTC)" in said(too_long), "the last day, as it was given"

    days = period()
    proposed = await cli.json(*propose_args(city_id), *days)
    proposer = operator_actor().id
    assert [e["type"] for e in proposed["events"]] == ["CertificationImportProposed"]
    assert (proposed["valid_from"], proposed["valid_until"]) == (days[1], days[3]), "the days as given"
    recorded = proposed["events"][0]["data"]
    assert recorded["valid_from"].startswith(f"{days[1]}T00:00:00"), "from 00:00 UTC on the first day"
    last = date.fromisoformat(days[3])
    assert recorded["valid_until"].startswith(f"{last + timedelta(days=1)}T00:00:00"), "the last day whole"
    assert proposed["events"][0]["data"]["proposed_by"] == proposer
    assert (proposed["status"]["phase"], proposed["status"]["level"]) == ("import_proposed", None)

    # (That the proposer cannot countersign under a committee token of the same name is the HTTP
    # test's: no token can be named like the CLI's operator, cli:<login>(uid N).)
    nonsense = tmp_path / "nonsense.token"
    nonsense.write_text("cct_nonsense")
    not_committee = await cli("import", "countersign", city_id, "--token-file", str(nonsense))
    assert not_committee.exit_code == 2 and "the committee member's token" in said(not_committee)
    no_token = await cli("import", "countersign", city_id)
    assert no_token.exit_code == 2 and "set CITYCERT_TOKEN or give --token-file PATH" in said(no_token)

    ben = await token_file(programme, "cmt-ben", tmp_path)
    signed = await cli.json("import", "countersign", city_id, "--token-file", ben)
    assert [e["type"] for e in signed["events"]] == ["CertificationImported"]
    data = signed["events"][0]["data"]
    assert (data["proposed_by"], data["countersigned_by"]) == (proposer, "cmt-ben")
    assert (signed["status"]["phase"], signed["status"]["level"]) == ("certified", "gold")
    state = await programme.city(city_id).state()
    assert state.level is not None and state.level.value == "gold"


async def test_a_proposal_is_rejected_with_a_reason(programme: Programme, tmp_path: Path) -> None:
    cli, city_id = programme.cli, unique("pinecrest")
    await cli.json(
        "city", "register", city_id, "--name", "Pinecrest", "--country", "US", "--population", "90000"
    )
    await cli.json(*propose_args(city_id), *period())
    ben = await token_file(programme, "cmt-ben", tmp_path)
    rejected = await cli.json("import", "reject", city_id, "--token-file", ben, "--reason", "no record of it")
    assert [e["type"] for e in rejected["events"]] == ["CertificationImportRejected"]
    assert rejected["status"]["phase"] == "registered"


async def test_migration_mode_is_switched_and_recorded_and_imports_directly_while_on(
    programme: Programme,
) -> None:
    cli, city_id = programme.cli, unique("quarry")
    operator = operator_actor().id
    assert (await cli.json("migration-mode", "status"))["on"] is False

    on = await cli.json("migration-mode", "on", "--reason", "bringing in 2018-2025")
    assert (on["on"], on["switched_on_by"], on["reason"]) == (True, operator, "bringing in 2018-2025")
    again = await cli("migration-mode", "on", "--reason", "again")
    assert again.exit_code == 2 and "already on" in said(again)
    table = await cli("migration-mode", "status")
    assert table.exit_code == 0 and "migration mode is on" in table.stdout

    await cli.json(
        "city", "register", city_id, "--name", "Quarry", "--country", "US", "--population", "90000"
    )
    imported = await cli.json(*propose_args(city_id, "silver"), *period())
    assert [e["type"] for e in imported["events"]] == ["CertificationImported"]
    assert imported["events"][0]["data"]["migration_mode"]["switched_on_by"] == operator
    assert imported["status"]["level"] == "silver"

    off = await cli.json("migration-mode", "off", "--reason", "migration done")
    assert off["on"] is False and [s["on"] for s in off["switches"]] == [True, False]
    stored = await programme.store.read_stream(PROGRAMME_STREAM)
    assert [(e.type, e.actor.id, e.data["reason"]) for e in stored] == [
        ("MigrationModeSwitchedOn", operator, "bringing in 2018-2025"),
        ("MigrationModeSwitchedOff", operator, "migration done"),
    ]
    assert len(await programme.store.read_stream(city_stream(city_id))) == 2
