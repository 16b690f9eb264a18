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

from domain.standard import (
    CriterionProvenance,
    LevelRule,
    Standard,
    StandardError,
    UnknownCriteria,
    available_versions,
    crosswalk,
    get_standard,
    revisions,
)
from entrypoints.cli import cities as cli_cities
from entrypoints.cli import credentials as cli_credentials
from entrypoints.cli import dev as cli_dev
from entrypoints.cli import imports as cli_imports
from entrypoints.cli import mail as cli_mail
from entrypoints.cli import ops as cli_ops
from entrypoints.cli import people as cli_people
from entrypoints.cli import rounds as cli_rounds

if TYPE_CHECKING:
    from temporalio.client import Client

app = typer.Typer(help="citycert: run a city data-excellence certification programme.", no_args_is_help=True)
standard_app = typer.Typer(
    help="Inspect a certification standard and score against it.", no_args_is_help=True
)
app.add_typer(standard_app, name="standard")

console = Console()
errors = Console(stderr=True)


def _load(version: str, revision: int | None = None) -> Standard:
    try:
        return get_standard(version, revision)
    except StandardError as e:
        errors.print(f"error: {e}")
        raise typer.Exit(2) from e


RevisionOption = Annotated[
    int | None, typer.Option(help="A revision of the version (default: its newest)", show_default=False)
]


def _marked(text: str, provenance: str | None) -> str:
    """A field's text, with "(illustrative)" beside it when it is ours rather than the public record's."""
    return f"{text} (illustrative)" if provenance == "illustrative" and text else text


_UNMARKED = CriterionProvenance(
    title="public", checklist="public", required_documents="public", prerequisites="public", tags="public"
)


def _requirements(rule: LevelRule) -> str:
    parts = [f"criterion {cid}" for cid in rule.required_criteria]
    parts += [req.describe() for req in rule.required_tags]
    return f", requires {', '.join(parts)}" if parts else ""


@standard_app.command("list")
def standard_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print the standards as JSON")] = False,
) -> None:
    """The shipped standards, their revisions, and when cities may apply under each."""
    now = datetime.now(UTC)
    rows = [
        {
            "version": std.version,
            "revision": std.revision,
            "revisions": revisions(std.version),
            "name": std.name,
            "open_for_applications": std.open_for_applications.model_dump(mode="json", by_alias=True),
            "open_now": std.is_open(now),
        }
        for std in (get_standard(v) for v in available_versions())
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for row, std in zip(rows, (get_standard(v) for v in available_versions()), strict=True):
        state = "open now" if row["open_now"] else "closed"
        console.print(
            f"{std.version} (revision {std.revision}): {std.name}; "
            f"{std.open_for_applications.describe()} ({state})"
        )


@standard_app.command("show")
def standard_show(
    version: Annotated[str, typer.Argument(help="Standard version, e.g. wwc-2022")],
    revision: RevisionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole standard as JSON")] = False,
) -> None:
    """Show a standard: practice areas, criteria with prerequisites, and level rules. Fields that
    are ours rather than the programme's public record say "(illustrative)"."""
    std = _load(version, revision)
    if as_json:
        typer.echo(json.dumps(std.model_dump(mode="json", by_alias=True), indent=2))
        return
    console.print(
        f"[bold]{std.name}[/bold] ({std.version}, revision {std.revision}), effective {std.effective_from}; "
        f"{std.open_for_applications.describe()}; shares compared {std.share_rounding.replace('_', ' ')}"
    )
    per_area = Counter(c.practice_area for c in std.criteria)
    table = Table(
        "id",
        "practice area",
        "title",
        "prerequisites",
        "rule",
        "documents",
        "tags",
        title=f"{len(std.criteria)} criteria",
    )
    names = {a.id: a.name for a in std.practice_areas}
    for c in std.criteria:
        # A first revision recorded no provenance: nothing is marked.
        p = c.provenance or _UNMARKED
        checklist = f"{c.checklist.min_met} of {len(c.checklist.items)}"
        table.add_row(
            c.id,
            names[c.practice_area],
            _marked(c.title, p.title),
            _marked(", ".join(c.prerequisites), p.prerequisites),
            _marked(checklist, p.checklist),
            _marked(str(len(c.required_documents)), p.required_documents),
            _marked(", ".join(c.tags), p.tags),
        )
    console.print(table)
    for area in std.practice_areas:
        console.print(f"  {area.id:5} {area.name}: {per_area[area.id]} criteria")
    for rule in std.ordered_levels:
        console.print(f"  {rule.name.value}: score >= {rule.min_score:.0%}{_requirements(rule)}")
    for part, source in std.provenance.items():
        console.print(f"  [dim]{part}: {source}[/dim]")


@standard_app.command("crosswalk")
def standard_crosswalk(
    version: Annotated[str, typer.Argument(help="The newer standard version, e.g. wwc-2022")],
    from_version: Annotated[
        str, typer.Option("--from", help="The older version the city was certified under, e.g. wwc-2018")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the crosswalk as JSON")] = False,
) -> None:
    """What carries over for a city re-certifying under VERSION after FROM: the criteria that
    continue older ones, the new ones, and the older ones nothing continues."""
    walk = crosswalk(_load(version), _load(from_version))
    if as_json:
        typer.echo(json.dumps(walk.model_dump(mode="json"), indent=2))
        return
    table = Table("criterion", "title", f"carries over from {walk.from_version}", title="What carries over")
    for item in walk.carried_over:
        table.add_row(item.criterion_id, item.title, ", ".join(item.carries_over_from))
    console.print(table)
    console.print(f"new in {walk.version}: {', '.join(walk.new) or 'none'}")
    console.print(f"not continued from {walk.from_version}: {', '.join(walk.retired) or 'none'}")


@standard_app.command("score")
def standard_score(
    version: Annotated[str, typer.Argument(help="Standard version, e.g. wwc-2022")],
    approved: Annotated[
        str, typer.Option(help="Comma-separated approved criterion ids, e.g. 'DM1,DM2'")
    ] = "",
    revision: RevisionOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Score a set of approved criteria, applying prerequisites and level requirements."""
    std = _load(version, revision)
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
        blocked = std.blocked_by(result.earned)
        for cid in lost:
            console.print(f"  {cid} blocked by {', '.join(blocked.get(cid, []))}")
    if result.next_level_unmet:
        console.print(f"the next level needs: {'; '.join(result.next_level_unmet)}")


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
for _module in (
    cli_cities,
    cli_imports,
    cli_mail,
    cli_ops,
    cli_people,
    cli_dev,
    cli_credentials,
    cli_rounds,
):
    _module.register(app)


if __name__ == "__main__":
    app()
