"""`citycert people` over a real PostgreSQL: the same people the API keeps, bad details exit 2 with
the rule in words, and an erasure leaves the event log verifiable."""

from __future__ import annotations

import pytest

from eventstore import EventStore
from tests.integration.entrypoints.cli.test_cli_cities import (  # the shared CLI harness, and its fixtures
    Cli,
    cli,
    lakeside_events,
    restore_logging,
    said,
    seed_lakeside,
)

__all__ = ["cli", "restore_logging"]  # fixtures used by name

ANA = ("--name", "Ana Souza", "--email", "ana.souza@example.org", "--language", "pt")


async def test_add_show_update_list_and_deactivate_a_person(cli: Cli, store: EventStore) -> None:
    await seed_lakeside(store, first_steps=1)  # lakeside registered

    added = await cli.json("people", "add", *ANA, "--role", "city", "--city", "lakeside")
    person_id = added["id"]
    updated = await cli.json("people", "update", person_id, "--language", "es")
    await cli.json(
        "people",
        "add",
        "--name",
        "Rui",
        "--email",
        "rui@example.org",
        "--language",
        "en",
        "--role",
        "committee",
    )
    table = await cli("people", "list")

    assert added | {"name": "Ana Souza", "role": "city", "city_id": "lakeside", "active": True} == added
    assert updated["language"] == "es" and updated["email"] == "ana.souza@example.org"
    assert await cli.json("people", "show", person_id) == updated
    assert [p["id"] for p in await cli.json("people", "list", "--role", "city")] == [person_id]
    assert [p["role"] for p in await cli.json("people", "list", "--limit", "1", "--offset", "1")] == [
        "committee"
    ]
    assert table.exit_code == 0 and "Ana Souza" in table.stdout and "2 people" in table.stdout
    deactivated = await cli.json("people", "deactivate", person_id)
    assert deactivated["active"] is False
    assert [p["role"] for p in await cli.json("people", "list", "--active")] == ["committee"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--email", "ana", "--language", "pt", "--role", "committee"),
            "--email: an e-mail address is name@",
        ),
        (
            ("--email", "a@example.org", "--language", "fr", "--role", "committee"),
            "--language: unknown language 'fr'",
        ),
        (
            ("--email", "a@example.org", "--language", "pt", "--role", "city"),
            "city staff needs --city: the city they work for",
        ),
        (
            ("--email", "a@example.org", "--language", "pt", "--role", "operator", "--city", "lakeside"),
            "an operator is not bound to a city; leave out --city",
        ),
        (
            ("--email", "a@example.org", "--language", "pt", "--role", "city", "--city", "atlantis"),
            "no city 'atlantis' is registered",
        ),
    ],
)
async def test_bad_details_exit_2_with_the_rule_in_words(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = await cli("people", "add", "--name", "Ana", *args)

    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in said(result) and result.stdout == ""


async def test_a_duplicate_address_and_an_unknown_person_exit_2(cli: Cli) -> None:
    await cli.json("people", "add", *ANA, "--role", "committee")

    duplicate = await cli(
        "people",
        "add",
        *ANA[:2],
        "--email",
        "ANA.souza@example.org",
        "--language",
        "en",
        "--role",
        "operator",
    )
    unknown = await cli("people", "show", "per_0123456789abcdef")
    nothing = await cli("people", "update", "per_0123456789abcdef")

    assert duplicate.exit_code == 2 and "already has the e-mail address" in said(duplicate)
    assert unknown.exit_code == 2 and "no person 'per_0123456789abcdef' is known" in said(unknown)
    assert nothing.exit_code == 2 and "give at least one of name, email, language" in said(nothing)


async def test_erase_removes_the_details_and_verify_still_passes(cli: Cli, store: EventStore) -> None:
    # Given a city with history and its staff member,
    await seed_lakeside(store)
    person_id = (await cli.json("people", "add", *ANA, "--role", "city", "--city", "lakeside"))["id"]

    # when they are erased,
    erased = await cli.json("people", "erase", person_id)

    # then nothing of their details is left, their id still resolves,
    assert (erased["name"], erased["email"], erased["language"]) == (None, None, None)
    assert (erased["id"], erased["role"], erased["city_id"]) == (person_id, "city", "lakeside")
    assert erased["erased_at"] is not None and (await cli.json("people", "show", person_id)) == erased
    again = await cli("people", "update", person_id, "--name", "Ana")
    assert again.exit_code == 2 and "was erased" in said(again)
    # and the event log verifies as before.
    report = await cli.json("verify", "--skip-workflows")
    assert report["ok"] is True and report["store"]["events"] == lakeside_events(), report
