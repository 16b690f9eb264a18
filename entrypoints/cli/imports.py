"""Importing certifications from before citycert, and the store's migration mode.

    citycert import propose CITY --level L --standard V --round R --valid-from DAY --valid-until DAY
    citycert import countersign CITY [--note T]       # a committee member's token
    citycert import reject CITY --reason T            # a committee member's token
    citycert import past CITY --level L --standard V --round R --valid-from D --valid-until D
    citycert migration-mode status | on --reason T | off --reason T

An operator proposes (as `cli:<login>(uid N)`); the city holds the certification once a committee member
who did not propose it countersigns. The CLI has no committee identity of its own: countersigning
and rejecting take a committee member's token (CITYCERT_TOKEN, or a file named by --token-file;
never on the command line, where `ps` shows it), and act as its holder, exactly as the API would.
While migration mode is on, an operator's import is recorded at once, saying so. Every command goes
through app.commands.CommandService, as the API's do.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from domain import Level
from entrypoints.cli.cities import CityArg, JsonOption, _checked, _city_id, _command_json, _print_result
from entrypoints.cli.context import TOKEN_ENV, connected, load_settings, operator_actor, run, token_secret
from entrypoints.cli.output import console, emit, fail, print_table

if TYPE_CHECKING:
    from app.commands import CommandOutcome
    from app.programme import ProgrammeStatus
    from domain import Actor
    from domain import commands as cmd
    from eventstore import EventStore

import_app = typer.Typer(
    help="Import certifications earned before citycert: proposed by an operator, countersigned by "
    "a committee member.",
    no_args_is_help=True,
)
migration_app = typer.Typer(
    help="The store's migration mode: while on, an operator's import needs no countersignature.",
    no_args_is_help=True,
)

TokenOpt = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help=f"A file holding a committee member's token; else the token is read from {TOKEN_ENV}. "
        "Never the token itself on the command line (every user of the machine sees it in `ps`)",
        show_default=False,
    ),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why, for the record", show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(migration_app, name="migration-mode")


def _day(option: str, text: str) -> date:
    """A day as the API takes it: an ISO 8601 date, nothing else (a moment is not a day)."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            pass  # 2024-02-30
    raise fail(f"{option} must be a date, such as 2024-06-01, not {text!r}")


def _give(city_id: str, command: cmd.HumanCommand, who: Actor | None, token: str | None = None) -> Any:
    """Give the command as `who`, or as the committee member whose token this is."""
    settings = load_settings()

    async def work() -> CommandOutcome:
        async with connected(settings, temporal=True) as ctx:
            actor = who if who is not None else await _committee_member(ctx.store, token or "")
            return await ctx.services().commands.give(city_id, command, actor)

    return run(work)


async def _committee_member(store: EventStore, token: str) -> Actor:
    from app.tokens import TokenRefused, authenticate
    from domain import Actor

    try:
        info = await authenticate(store, token)
    except TokenRefused as e:
        raise fail(f"the committee member's token: {e.message}") from None
    if info.role != "committee":
        raise fail(f"a {info.role} token may not do this; it needs a committee member's token")
    return Actor(role=info.role, id=info.actor_id)


@import_app.command("propose")
def import_propose(
    city_id: CityArg,
    level: Annotated[Level, typer.Option(help="The level held", show_default=False)],
    standard: Annotated[str, typer.Option(help="The standard version, e.g. wwc-2018", show_default=False)],
    round_id: Annotated[
        str,
        typer.Option(
            "--round", help="The round it was awarded in, as the programme named it", show_default=False
        ),
    ],
    valid_from: Annotated[
        str, typer.Option(help="The day it was awarded, e.g. 2024-06-01 (from 00:00 UTC)", show_default=False)
    ],
    valid_until: Annotated[
        str,
        typer.Option(
            help="Its last day, inclusive, e.g. 2027-05-31: at most the programme's validity later",
            show_default=False,
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Propose importing a certification (as POST /v1/cities/{id}/imported-certification does).

    It lasts at most the programme's validity from its award, which is not in the future; the
    city holds it once a committee member countersigns, or at once while migration mode is on.
    """
    from app.days import end_of, start_of
    from domain import commands as cmd

    _city_id(city_id)
    first, last = _day("--valid-from", valid_from), _day("--valid-until", valid_until)
    if last < first:
        raise fail("--valid-until, the certification's last day, must not be before --valid-from")
    who = operator_actor()
    command = _checked(
        # As the API does: from the first day's start through the end of the last, in UTC.
        lambda: cmd.ProposeImport(
            level=level,
            cohort=round_id,
            standard_version=standard,
            valid_from=start_of(first),
            valid_until=end_of(last),
            proposed_by=who.id,
        ),
        {"standard_version": "--standard", "valid_from": "--valid-from", "valid_until": "--valid-until"},
    )
    result = _give(city_id, command, who)
    recorded = result.events[0].type if result.events else ""
    title = f"{city_id}: imported" if recorded == "CertificationImported" else f"{city_id}: import proposed"
    title += f", valid {first.isoformat()} through {last.isoformat()}"
    # The days as given beside the moments recorded, as the API's answer has them.
    answer = {**_command_json(result), "valid_from": first.isoformat(), "valid_until": last.isoformat()}
    emit(answer, as_json, lambda: _print_result(title, result))


@import_app.command("past")
def import_past(
    city_id: CityArg,
    level: Annotated[Level, typer.Option(help="The level held", show_default=False)],
    standard: Annotated[str, typer.Option(help="The standard version, e.g. wwc-2018", show_default=False)],
    round_id: Annotated[
        str,
        typer.Option(
            "--round", help="The round it was awarded in, as the programme named it", show_default=False
        ),
    ],
    valid_from: Annotated[
        str, typer.Option(help="When it was awarded: a date, e.g. 2019-06-01", show_default=False)
    ],
    valid_until: Annotated[str, typer.Option(help="When it ended: a date in the past", show_default=False)],
    as_json: JsonOption = False,
) -> None:
    """Record a certification the city held before citycert that has ended, as history (as POST
    /v1/cities/{id}/past-certifications does): it certifies nothing and needs no countersignature;
    the city's next cycle compares its outcome with the latest one."""
    from app.days import start_of
    from domain import commands as cmd

    _city_id(city_id)
    who = operator_actor()
    command = _checked(
        lambda: cmd.ImportPastCertification(
            level=level,
            cohort=round_id,
            standard_version=standard,
            valid_from=start_of(_day("--valid-from", valid_from)),
            valid_until=start_of(_day("--valid-until", valid_until)),
            imported_by=who.id,
        ),
        {"standard_version": "--standard", "valid_from": "--valid-from", "valid_until": "--valid-until"},
    )
    result = _give(city_id, command, who)
    emit(
        _command_json(result),
        as_json,
        lambda: _print_result(f"{city_id}: past certification recorded", result),
    )


@import_app.command("countersign")
def import_countersign(
    city_id: CityArg,
    token: TokenOpt = None,
    note: Annotated[str, typer.Option(help="A note for the record")] = "",
    as_json: JsonOption = False,
) -> None:
    """Countersign the city's proposed import as the committee member whose token this is (never
    the proposer): the city holds the certification."""
    from domain import commands as cmd

    _city_id(city_id)
    # The countersigner is the token's holder: the command service fills it in.
    command = _checked(lambda: cmd.CountersignImport(countersigned_by="committee", note=note))
    result = _give(city_id, command, None, token_secret(token))
    emit(_command_json(result), as_json, lambda: _print_result(f"{city_id}: import countersigned", result))


@import_app.command("reject")
def import_reject(
    city_id: CityArg, reason: ReasonOpt, token: TokenOpt = None, as_json: JsonOption = False
) -> None:
    """Reject the city's proposed import, with the reason: the city stays uncertified."""
    from domain import commands as cmd

    _city_id(city_id)
    command = _checked(
        lambda: cmd.RejectImport(rejected_by="committee", reason=reason), {"reason": "--reason"}
    )
    result = _give(city_id, command, None, token_secret(token))
    emit(_command_json(result), as_json, lambda: _print_result(f"{city_id}: import rejected", result))


# --- migration mode -----------------------------------------------------------------------------


def _status_json(status: ProgrammeStatus) -> Any:
    mode = status.migration_mode
    return {
        "on": mode is not None,
        "since": mode.since.isoformat() if mode else None,
        "switched_on_by": mode.switched_on_by if mode else None,
        "reason": mode.reason if mode else None,
        "switches": [
            {"on": e.type == "MigrationModeSwitchedOn", **e.data, "actor": e.actor.id} for e in status.events
        ],
    }


def _print_status(status: ProgrammeStatus) -> None:
    mode = status.migration_mode
    if mode is None:
        console.print("migration mode is off: an operator's import needs a committee countersignature")
    else:
        console.print(
            f"migration mode is on since {mode.since.isoformat()} "
            f"(switched on by {mode.switched_on_by}: {mode.reason})",
            markup=False,
        )
    rows = [
        (
            "on" if e.type == "MigrationModeSwitchedOn" else "off",
            e.data["switched_at"],
            e.data["switched_by"],
            e.data["reason"],
        )
        for e in status.events
    ]
    if rows:
        print_table("switches", ("switched", "at", "by", "reason"), rows)


def _programme(switch: bool | None, reason: str = "") -> ProgrammeStatus:
    from domain.programme import SwitchMigrationMode

    command = (
        None
        if switch is None
        else _checked(lambda: SwitchMigrationMode(on=switch, reason=reason), {"reason": "--reason"})
    )
    settings = load_settings()

    async def work() -> ProgrammeStatus:
        async with connected(settings, temporal=True) as ctx:
            commands = ctx.services().commands
            if command is None:
                return await commands.migration_mode()
            return await commands.switch_migration_mode(command, operator_actor())

    return run(work)


@migration_app.command("status")
def migration_status(as_json: JsonOption = False) -> None:
    """Whether migration mode is on, and every switch of it (who, when, why)."""
    status = _programme(None)
    emit(_status_json(status), as_json, lambda: _print_status(status))


@migration_app.command("on")
def migration_on(reason: ReasonOpt, as_json: JsonOption = False) -> None:
    """Switch migration mode on for the whole store (recorded): an operator's import is then
    recorded without a countersignature, saying so. Switch it off when the migration is done."""
    status = _programme(True, reason)
    emit(_status_json(status), as_json, lambda: _print_status(status))


@migration_app.command("off")
def migration_off(reason: ReasonOpt, as_json: JsonOption = False) -> None:
    """Switch migration mode off (recorded): imports need a committee countersignature again."""
    status = _programme(False, reason)
    emit(_status_json(status), as_json, lambda: _print_status(status))
