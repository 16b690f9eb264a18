"""`citycert import ...` and `citycert migration-mode ...` against a real PostgreSQL and a real
Temporal dev server with a real worker (the fixtures of test_cli_cities)."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta

from app.programme import PROGRAMME_STREAM
from readmodel import city_stream
from tests.integration.entrypoints.cli import test_cli_cities as cli_cities
from tests.integration.entrypoints.cli.test_cli_cities import Programme, said, unique

# The CLI tests' fixtures: a dev server and a worker on this test's database, logging put back.
programme = cli_cities.programme
restore_logging = cli_cities.restore_logging


def period(days: int = 400, left: int = 600) -> list[str]:
    now = datetime.now(UTC)
    return [
        "--valid-from",
        (now - timedelta(days=days)).isoformat(),
        "--valid-until",
        (now + timedelta(days=left)).isoformat(),
    ]


def propose_args(city_id: str, level: str = "gold") -> list[str]:
    return ["import", "propose", city_id, "--level", level, "--standard", "wwc-2018", "--cohort", "2024"]


async def token(programme: Programme, name: str) -> str:
    created = await programme.cli("token", "create", "--role", "committee", "--name", name)
    assert created.exit_code == 0, created.stderr
    return created.stdout.strip()


async def test_an_import_is_proposed_then_countersigned_by_another_person(programme: Programme) -> None:
    cli, city_id = programme.cli, unique("oakley")
    await cli.json(
        "city", "register", city_id, "--name", "Oakley", "--country", "US", "--population", "90000"
    )

    too_long = await cli(
        *propose_args(city_id, "platinum"),
        "--valid-from",
        datetime.now(UTC).isoformat(),
        "--valid-until",
        "2199-12-31T00:00:00Z",
    )
    assert too_long.exit_code == 2
    assert "at most the programme's validity (1095 days)" in said(too_long)

    proposed = await cli.json(*propose_args(city_id), *period())
    proposer = f"cli:{getpass.getuser()}"
    assert [e["type"] for e in proposed["events"]] == ["CertificationImportProposed"]
    assert proposed["events"][0]["data"]["proposed_by"] == proposer
    assert (proposed["status"]["phase"], proposed["status"]["level"]) == ("import_proposed", None)

    # The proposer, holding a committee token too, still cannot countersign their own.
    own = await cli("import", "countersign", city_id, "--token", await token(programme, proposer))
    assert own.exit_code == 2 and "proposed this import and cannot countersign it" in said(own)
    not_committee = await cli("import", "countersign", city_id, "--token", "cct_nonsense")
    assert not_committee.exit_code == 2 and "unknown or revoked" in said(not_committee)

    signed = await cli.json("import", "countersign", city_id, "--token", await token(programme, "cmt-ben"))
    assert [e["type"] for e in signed["events"]] == ["CertificationImported"]
    data = signed["events"][0]["data"]
    assert (data["proposed_by"], data["countersigned_by"]) == (proposer, "cmt-ben")
    assert (signed["status"]["phase"], signed["status"]["level"]) == ("certified", "gold")
    state = await programme.city(city_id).state()
    assert state.level is not None and state.level.value == "gold"


async def test_a_proposal_is_rejected_with_a_reason(programme: Programme) -> None:
    cli, city_id = programme.cli, unique("pinecrest")
    await cli.json(
        "city", "register", city_id, "--name", "Pinecrest", "--country", "US", "--population", "90000"
    )
    await cli.json(*propose_args(city_id), *period())
    secret = await token(programme, "cmt-ben")
    rejected = await cli.json("import", "reject", city_id, "--token", secret, "--reason", "no record of it")
    assert [e["type"] for e in rejected["events"]] == ["CertificationImportRejected"]
    assert rejected["status"]["phase"] == "registered"


async def test_migration_mode_is_switched_and_recorded_and_imports_directly_while_on(
    programme: Programme,
) -> None:
    cli, city_id = programme.cli, unique("quarry")
    operator = f"cli:{getpass.getuser()}"
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
