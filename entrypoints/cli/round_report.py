"""`citycert round report ROUND`: the internal round report for the programme's staff.

A table of the round's cities on a terminal (with the medians per phase, the deadlines missed in
total and the reviewers' workload), the whole report as JSON with --json, or one of its tables as
CSV with --csv TABLE (to a spreadsheet: `citycert round report 2026-spring --csv criteria > c.csv`).
It reads the store only: no Temporal is needed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from entrypoints.cli.context import load_settings, open_store, run
from entrypoints.cli.output import console, fail, print_json, print_table

if TYPE_CHECKING:
    from app.round_report import ReportTable, RoundReport

TABLES = ("cities", "phases", "criteria", "reviewers")


def add_to(round_app: typer.Typer) -> None:
    """Add `report` to the `round` group (entrypoints/cli/rounds.py)."""
    round_app.command("report")(round_report)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _show(report: RoundReport) -> None:
    print_table(
        f"Round {report.round_id}: {len(report.cities)} cities",
        ["city", "outcome", "phase", "level", "decision", "share", "honor roll?", "days", "breaches"],
        [
            [
                row.city_id,
                row.outcome,
                row.phase.value if row.phase else "",
                row.level.value if row.level else "",
                getattr(row.committee_decision, "value", row.committee_decision) or "",
                _percent(row.share),
                "suggested" if row.honor_roll_suggested else "",
                row.days_in_round,
                row.sla_breaches,
            ]
            for row in report.cities
        ],
    )
    medians = [
        f"{m.phase.value} {m.median_days} ({m.cities})"
        for m in report.phase_medians
        if m.median_days is not None
    ]
    console.print(
        f"median days per phase (cities): {', '.join(medians) or 'none finished yet'}", markup=False
    )
    sla = report.sla
    console.print(
        f"deadlines missed: {sla.total} ({sla.reviews_escalated} reviews escalated, "
        f"{sla.clarifications_expired} clarifications expired, {sla.submission_overdue} submissions, "
        f"{sla.visit_scheduling_overdue} visit schedulings, {sla.committee_decision_overdue} committee "
        f"decisions overdue) in {sla.cities_with_breaches} "
        f"{'city' if sla.cities_with_breaches == 1 else 'cities'}",
        markup=False,
    )
    print_table(
        "Reviewers",
        ["reviewer", "decisions", "approved", "rejected", "clarifications", "open", "escalations"],
        [
            [
                r.reviewer_id,
                r.decisions,
                r.approved,
                r.rejected,
                r.clarifications_requested,
                r.open_items,
                r.escalations,
            ]
            for r in report.reviewers
        ],
    )
    console.print("pass rates per criterion: --csv criteria, or --json", markup=False)


def round_report(
    round_id: Annotated[
        str, typer.Argument(metavar="ROUND", help="The round, e.g. 2026-spring", show_default=False)
    ],
    csv_table: Annotated[
        str | None,
        typer.Option(
            "--csv", metavar="TABLE", help=f"Print one table as CSV: {', '.join(TABLES)}", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON")] = False,
) -> None:
    """The round's internal report: every city with its outcome (the not certified included) and
    the Honor Roll suggestion, days per phase, deadlines missed, pass rate per criterion, reviewer
    workload."""
    from app.round_report import ReportTable, load_round_report, render_csv

    if not round_id.strip() or "\x00" in round_id or len(round_id) > 200:
        raise fail("the round must be 1-200 characters without NUL")
    table: ReportTable | None = None
    if csv_table is not None:
        if csv_table not in TABLES:
            raise fail(f"--csv must be one of {', '.join(TABLES)}, not {csv_table!r}")
        if as_json:
            raise fail("give --csv TABLE or --json, not both")
        table = ReportTable(csv_table)
    settings = load_settings()

    async def work() -> RoundReport:
        async with open_store(settings) as store:
            return await load_round_report(store, round_id, policy=settings.policy(), now=datetime.now(UTC))

    report = run(work)
    if table is not None:
        typer.echo(render_csv(report, table), nl=False)
    elif as_json:
        print_json(report.model_dump(mode="json"))
    else:
        _show(report)
