"""Rounds, the committee's Honor Roll and the announcements, from the command line.

    citycert round create ROUND --name N --opens-on D --closes-on D --submission-deadline D
                                --announcement-on D --review-capacity N
    citycert round change ROUND [--name N] [--opens-on D] ... [--review-capacity N]
    citycert round list | show ROUND
    citycert round honor-roll ROUND CITY... [--clear]        # a committee member's token
    citycert round announcement ROUND [--format md|json|csv]

Operators act as `cli:<login>(uid N)`, as every operator's CLI command does; the Honor Roll is the
committee's, so it takes a committee member's token (CITYCERT_TOKEN or --token-file) and acts as
its holder. Every command goes through app.rounds, as the API's do. Before a round's announcement
date, `announcement` prints the embargoed preview and says so on stderr.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from entrypoints.cli.cities import JsonOption, _checked
from entrypoints.cli.context import connected, load_settings, operator_actor, run, token_secret
from entrypoints.cli.imports import TokenOpt, _committee_member, _day
from entrypoints.cli.output import console, emit, errors, fail, print_json, print_table

if TYPE_CHECKING:
    from app.rounds import RoundRecord
    from domain.rounds import Round

round_app = typer.Typer(
    help="Rounds: when cities apply, send evidence and are announced; the Honor Roll; announcements.",
    no_args_is_help=True,
)

RoundArg = Annotated[
    str, typer.Argument(metavar="ROUND", help="The round's id, e.g. 2026-spring", show_default=False)
]
DayOpt = Annotated[str, typer.Option(help="An ISO 8601 date, e.g. 2026-03-01", show_default=False)]
MaybeDay = Annotated[str | None, typer.Option(help="An ISO 8601 date, e.g. 2026-03-01", show_default=False)]
_OPTIONS = {
    "round_id": "ROUND",
    "name": "--name",
    "opens_on": "--opens-on",
    "closes_on": "--closes-on",
    "submission_deadline": "--submission-deadline",
    "announcement_on": "--announcement-on",
    "review_capacity": "--review-capacity",
    "city_ids": "CITY",
}


def register(app: typer.Typer) -> None:
    from entrypoints.cli import round_report

    round_report.add_to(round_app)
    app.add_typer(round_app, name="round")


def _round_json(r: Round) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    data = r.model_dump(mode="json")
    data["id"] = data.pop("round_id")
    return {**data, "open_for_applications": r.is_open(today), "announced": r.announced(today)}


def _print_round(r: Round) -> None:
    today = datetime.now(UTC).date()
    state = "announced" if r.announced(today) else ("open for applications" if r.is_open(today) else "")
    rows = [
        ("name", r.name),
        ("applications", f"{r.opens_on} to {r.closes_on}"),
        ("submission deadline", str(r.submission_deadline)),
        ("announcement", str(r.announcement_on)),
        ("review capacity", str(r.review_capacity)),
        ("now", state),
        ("created", f"{r.created_at.date()} by {r.created_by}"),
        (
            "Honor Roll",
            "not designated"
            if r.honor_roll is None
            else f"{', '.join(r.honor_roll.city_ids) or '(none)'} "
            f"({r.honor_roll.designated_at.date()} by {r.honor_roll.designated_by})",
        ),
    ]
    print_table(f"round {r.round_id}", ("", ""), rows)


def _store_work(body: Any) -> Any:
    settings = load_settings()

    async def work() -> Any:
        async with connected(settings) as ctx:
            return await body(ctx.store, settings)

    return run(work)


@round_app.command("create")
def round_create(
    round_id: RoundArg,
    name: Annotated[str, typer.Option(help="The round's name, e.g. 'Spring 2027'", show_default=False)],
    opens_on: DayOpt,
    closes_on: DayOpt,
    submission_deadline: DayOpt,
    announcement_on: DayOpt,
    review_capacity: Annotated[
        int, typer.Option(help="How many cities its reviewers can take", show_default=False)
    ],
    as_json: JsonOption = False,
) -> None:
    """Create a round (recorded as you, the operator): dates in order, a new id, and an
    application window clear of every other round's."""
    from app.rounds import create_round
    from domain.rounds import CreateRound

    command = _checked(
        lambda: CreateRound(
            round_id=round_id,
            name=name,
            opens_on=_day("--opens-on", opens_on),
            closes_on=_day("--closes-on", closes_on),
            submission_deadline=_day("--submission-deadline", submission_deadline),
            announcement_on=_day("--announcement-on", announcement_on),
            review_capacity=review_capacity,
        ),
        _OPTIONS,
    )
    created = _store_work(
        lambda store, settings: create_round(
            store, command, operator_actor(), may_overlap=settings.rounds_may_overlap
        )
    )
    emit(_round_json(created), as_json, lambda: _print_round(created))


@round_app.command("change")
def round_change(
    round_id: RoundArg,
    name: Annotated[str | None, typer.Option(help="A new name", show_default=False)] = None,
    opens_on: MaybeDay = None,
    closes_on: MaybeDay = None,
    submission_deadline: MaybeDay = None,
    announcement_on: MaybeDay = None,
    review_capacity: Annotated[int | None, typer.Option(help="A new capacity", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a round's name, dates or capacity until its announcement date (recorded as you)."""
    from app.rounds import change_round
    from domain.rounds import ChangeRound

    days = {
        "opens_on": ("--opens-on", opens_on),
        "closes_on": ("--closes-on", closes_on),
        "submission_deadline": ("--submission-deadline", submission_deadline),
        "announcement_on": ("--announcement-on", announcement_on),
    }
    given = {field: _day(option, text) for field, (option, text) in days.items() if text is not None}
    command = _checked(
        lambda: ChangeRound(round_id=round_id, name=name, review_capacity=review_capacity, **given), _OPTIONS
    )
    changed = _store_work(
        lambda store, settings: change_round(
            store, command, operator_actor(), may_overlap=settings.rounds_may_overlap
        )
    )
    emit(_round_json(changed), as_json, lambda: _print_round(changed))


@round_app.command("list")
def round_list(as_json: JsonOption = False) -> None:
    """Every round, the latest announcement first."""
    from app.rounds import list_rounds

    found: list[Round] = _store_work(lambda store, _: list_rounds(store))
    today = datetime.now(UTC).date()

    def human() -> None:
        rows = [
            (
                r.round_id,
                r.name,
                f"{r.opens_on} to {r.closes_on}",
                str(r.submission_deadline),
                str(r.announcement_on),
                "yes" if r.announced(today) else "no",
            )
            for r in found
        ]
        print_table("rounds", ("id", "name", "applications", "deadline", "announcement", "announced"), rows)

    emit([_round_json(r) for r in found], as_json, human)


@round_app.command("show")
def round_show(round_id: RoundArg, as_json: JsonOption = False) -> None:
    """The round, its Honor Roll, and every recorded change of it."""
    from app.rounds import show_round

    record: RoundRecord = _store_work(lambda store, _: show_round(store, round_id))
    changes = [
        {"changed_by": c.changed_by, "changed_at": c.changed_at.isoformat(), "changes": c.changes}
        for c in record.changes
    ]

    def human() -> None:
        _print_round(record.round)
        if record.changes:
            rows = [
                (c.changed_at.isoformat(), c.changed_by, ", ".join(f"{k}={v}" for k, v in c.changes.items()))
                for c in record.changes
            ]
            print_table("changes", ("at", "by", "changed"), rows)

    emit({**_round_json(record.round), "changes": changes}, as_json, human)


@round_app.command("honor-roll")
def round_honor_roll(
    round_id: RoundArg,
    city_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="CITY...", help="The cities on the Honor Roll", show_default=False),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Designate an empty Honor Roll")] = False,
    token: TokenOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Designate the round's Honor Roll as the committee member whose token this is, replacing an
    earlier designation, until the announcement date."""
    from app.rounds import designate_honor_roll
    from domain.rounds import DesignateHonorRoll

    cities = city_ids or []
    if not cities and not clear:
        raise fail("name the cities on the Honor Roll, or --clear for none")
    if cities and clear:
        raise fail("--clear designates no city: name cities or --clear, not both")
    command = _checked(lambda: DesignateHonorRoll(round_id=round_id, city_ids=cities), _OPTIONS)
    secret = token_secret(token)

    async def body(store: Any, _: Any) -> Round:
        return await designate_honor_roll(store, command, await _committee_member(store, secret))

    designated = _store_work(body)
    emit(_round_json(designated), as_json, lambda: _print_round(designated))


@round_app.command("announcement")
def round_announcement(
    round_id: RoundArg,
    format: Annotated[
        Literal["md", "json", "csv"], typer.Option("--format", help="md (Markdown), json or csv")
    ] = "md",
) -> None:
    """The round's announcement: only certified cities, by section, and the committee's Honor Roll.
    Before the announcement date it is a preview under embargo (said so on stderr)."""
    from app.announcements import load_announcement, render_csv, render_markdown

    today = datetime.now(UTC).date()
    announcement = _store_work(
        lambda store, settings: load_announcement(store, round_id, rule=settings.late_awards, today=today)
    )
    if announcement.preview:
        errors.print(
            f"preview: round {round_id} is under embargo until {announcement.announcement_on}; "
            "not for publication",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if format == "json":
        print_json(announcement.model_dump(mode="json"))
    elif format == "csv":
        typer.echo(render_csv(announcement), nl=False)
    else:
        typer.echo(render_markdown(announcement), nl=False)


@round_app.command("adopt-cohorts")
def round_adopt_cohorts(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what it would record; record nothing")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Bring the cohorts recorded before rounds were records into rounds (once, after upgrading):
    each becomes the round of its id (2026-Spring and 2026-spring: 2026-spring), created from the
    data's dates where no round has that id, the other spellings adopted by it."""
    from app.rounds import adopt_recorded_cohorts
    from domain.rounds import CreateRound

    adoption = _store_work(
        lambda store, _settings: adopt_recorded_cohorts(store, operator_actor(), dry_run=dry_run)
    )
    done = [c.model_dump(mode="json") for c in adoption.recorded]

    def human() -> None:
        verb = "would record" if dry_run else "recorded"
        if not done:
            console.print("Every recorded cohort is a round's already: nothing to do.")
        for command in adoption.recorded:
            if isinstance(command, CreateRound):
                window = f"{command.opens_on} to {command.closes_on}"
                console.print(f"{verb}: round {command.round_id}, applications {window}")
            else:
                console.print(f"{verb}: round {command.round_id} adopts {', '.join(command.cohorts)}")
        for cohort in adoption.unnamed:
            console.print(f"left as it is: cohort {cohort!r} makes no round id")

    emit({"dry_run": dry_run, "recorded": done, "unnamed": adoption.unnamed}, as_json, human)
