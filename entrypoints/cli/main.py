"""The `citycert` command line: the standard, the decider's walk-through, and (later) operations."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from domain.standard import Standard, StandardError, UnknownCriteria, get_standard
from entrypoints.cli import cities as cli_cities
from entrypoints.cli import dev as cli_dev
from entrypoints.cli import imports as cli_imports
from entrypoints.cli import mail as cli_mail
from entrypoints.cli import ops as cli_ops
from entrypoints.cli import people as cli_people

if TYPE_CHECKING:
    from temporalio.client import Client

app = typer.Typer(help="citycert: run a city data-excellence certification programme.", no_args_is_help=True)
standard_app = typer.Typer(
    help="Inspect a certification standard and score against it.", no_args_is_help=True
)
app.add_typer(standard_app, name="standard")

console = Console()
errors = Console(stderr=True)


def _load(version: str) -> Standard:
    try:
        return get_standard(version)
    except StandardError as e:
        errors.print(f"error: {e}")
        raise typer.Exit(2) from e


@standard_app.command("show")
def standard_show(
    version: Annotated[str, typer.Argument(help="Standard version, e.g. wwc-2022")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole standard as JSON")] = False,
) -> None:
    """Show a standard: practice areas, criteria with prerequisites, and level rules."""
    std = _load(version)
    if as_json:
        typer.echo(json.dumps(std.model_dump(mode="json"), indent=2))
        return
    console.print(f"[bold]{std.name}[/bold] ({std.version}), effective {std.effective_from}")
    per_area = Counter(c.practice_area for c in std.criteria)
    table = Table(
        "id", "practice area", "title", "prerequisites", "rule", title=f"{len(std.criteria)} criteria"
    )
    names = {a.id: a.name for a in std.practice_areas}
    for c in std.criteria:
        checklist = f"{c.checklist.min_met} of {len(c.checklist.items)}"
        table.add_row(c.id, names[c.practice_area], c.title, ", ".join(c.prerequisites), checklist)
    console.print(table)
    for area in std.practice_areas:
        console.print(f"  {area.id:5} {area.name}: {per_area[area.id]} criteria")
    for rule in std.levels:
        required = f", requires {', '.join(rule.required_criteria)}" if rule.required_criteria else ""
        console.print(f"  {rule.name.value}: score >= {rule.min_score:.0%}{required}")


@standard_app.command("score")
def standard_score(
    version: Annotated[str, typer.Argument(help="Standard version, e.g. wwc-2022")],
    approved: Annotated[
        str, typer.Option(help="Comma-separated approved criterion ids, e.g. 'DM 1,DM 2'")
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Score a set of approved criteria, applying prerequisites and level requirements."""
    std = _load(version)
    ids = [part.strip() for part in approved.split(",") if part.strip()]
    try:
        result = std.score(ids)
    except UnknownCriteria as e:
        errors.print(f"error: {e}")
        raise typer.Exit(2) from e
    level = result.level.value if result.level else None
    if as_json:
        typer.echo(json.dumps({"score": result.score, "points": result.points, "level": level}))
        return
    console.print(
        f"{result.points} of {result.possible} points ({result.score:.1%}): {level or 'not certified'}"
    )
    lost = sorted(set(ids) - set(result.earned))
    if lost:
        console.print(f"approved but earning nothing (a prerequisite is missing): {', '.join(lost)}")


@app.command("walkthrough")
def walkthrough() -> None:
    """Walk a fictional city through two certification cycles with the pure decider, as a timeline
    (no server needed; `citycert seed-demo` seeds the demo cohort into a running stack instead)."""
    from entrypoints.cli.walkthrough import walk

    table = Table("when", "who", "command", "events", "phase", title="Lakeside, a fictional city")
    steps = walk()
    for step in steps:
        counted = Counter(type(e).__name__ for e in step.events)
        events = ", ".join(name if n == 1 else f"{name} x{n}" for name, n in counted.items())
        table.add_row(
            step.at.date().isoformat(),
            step.actor,
            step.command.command_name(),
            events,
            step.state.phase.value,
        )
    console.print(table)
    final = steps[-1].state
    if final.certification:
        cert = final.certification
        console.print(
            f"Lakeside holds {cert.level.value} ({cert.cohort}, {cert.standard_version}) "
            f"until {cert.valid_until.date().isoformat()}; {final.version} events recorded."
        )


@app.command("worker")
def worker_command(
    log_level: Annotated[
        str, typer.Option(envvar="CITYCERT_LOG_LEVEL", help="Log level: DEBUG, INFO, WARNING, ERROR")
    ] = "INFO",
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes on the task queue (default: one per core when "
            "CITYCERT_DATABASE_URL and CITYCERT_TEMPORAL_ADDRESS are set, else one)",
        ),
    ] = None,
) -> None:
    """Run Temporal workers: the city workflows, the reminder sweep and their activities.

    Starts the embedded PostgreSQL and Temporal dev server when CITYCERT_DATABASE_URL and
    CITYCERT_TEMPORAL_ADDRESS are unset (then in one process). With both set it runs one worker
    process per core, restarting any that dies; run it on more machines to scale further.
    """
    from app.worker_pool import run_pool

    run_pool(log_level, processes)


reminders_app = typer.Typer(help="The re-certification reminder schedule.", no_args_is_help=True)
app.add_typer(reminders_app, name="reminders")


def _with_client(action: Callable[[Client], Awaitable[None]]) -> None:
    from entrypoints.cli.context import load_settings, open_temporal, run

    async def work() -> None:
        async with open_temporal(load_settings()) as client:
            await action(client)

    run(work)


@reminders_app.command("trigger")
def reminders_trigger() -> None:
    """Run the reminder sweep now (the schedule is created by every worker at start)."""
    from app.schedules import trigger_reminders

    _with_client(trigger_reminders)
    console.print("reminder sweep triggered")


@reminders_app.command("backfill")
def reminders_backfill(
    start: Annotated[datetime, typer.Option(help="First moment to backfill (UTC), e.g. 2026-11-01")],
    end: Annotated[datetime, typer.Option(help="Last moment to backfill (UTC)")],
) -> None:
    """Run the sweeps the schedule missed between START and END (after an outage)."""
    from app.schedules import backfill_reminders

    begin, finish = (d if d.tzinfo else d.replace(tzinfo=UTC) for d in (start, end))
    if finish <= begin:
        errors.print("error: --end must be after --start")
        raise typer.Exit(2)

    async def backfill(client: Client) -> None:
        await backfill_reminders(client, begin, finish)

    _with_client(backfill)
    console.print(f"backfilled reminder sweeps from {begin.isoformat()} to {finish.isoformat()}")


# Commands of the interfaces work, each module adding its own (kept apart so each stays small).
for _module in (cli_cities, cli_imports, cli_mail, cli_ops, cli_people, cli_dev):
    _module.register(app)


if __name__ == "__main__":
    app()
