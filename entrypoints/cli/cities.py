"""The programme's everyday commands: tokens, cities, reviews, a city's history.

Commands that change data go through the API's own dispatch helpers (app.commands): the same
Update, the same refusals, the same answer once the events are recorded. Reads come from the
projections (city_status, review_queue, certifications) or fold the stream (history).

Output: a rich table on a terminal, JSON with --json. Exit codes (citycert/cli_context.py): 0 done,
1 a service failed (database or Temporal unavailable, a command not confirmed in time), 2 the
request cannot be done as given -- bad input or setting, an unknown city, or a command the rules
refuse (ineligible city, conflict of interest, ...), with the rules' own message on stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from domain import Level, Phase
from entrypoints.cli.context import (
    TOKEN_ENV,
    connected,
    invalid_input,
    load_settings,
    open_store,
    operator_actor,
    run,
    token_secret,
)
from entrypoints.cli.output import console, emit, fail, print_table

if TYPE_CHECKING:
    from app.commands import CommandOutcome
    from app.tokens import TokenInfo
    from domain.state import CitySummary
    from readmodel import CityStatus, ReviewItem

T = TypeVar("T")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
CityArg = Annotated[
    str, typer.Argument(metavar="CITY", help="The city's id, e.g. lakeside", show_default=False)
]

token_app = typer.Typer(
    help="API tokens: created once, stored hashed, each for one identity; they expire, and are "
    "listed, revoked and rotated here.",
    no_args_is_help=True,
)
city_app = typer.Typer(help="Register cities and see where they stand.", no_args_is_help=True)
review_app = typer.Typer(
    help="Decide on a city's evidence as a reviewer, with the reviewer's token (CITYCERT_TOKEN or "
    "--token-file): one command, many criteria.",
    no_args_is_help=True,
)
visit_app = typer.Typer(
    help="A city's site visit, as an operator: schedule, reschedule, record one held (with its "
    "findings per criterion), or waive it.",
    no_args_is_help=True,
)
deadline_app = typer.Typer(help="A city's running deadlines, as an operator.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `citycert` app."""
    app.add_typer(token_app, name="token")
    app.add_typer(city_app, name="city")
    app.add_typer(review_app, name="review")
    app.command("history")(history)
    app.add_typer(visit_app, name="site-visit")
    app.add_typer(deadline_app, name="deadline")


def _checked(build: Callable[[], T], names: dict[str, str] | None = None) -> T:
    """Build a model from what the user typed; its own checks failing exits 2 saying what is wrong."""
    try:
        return build()
    except ValidationError as e:
        raise invalid_input(e, names) from None


def _city_id(city_id: str) -> str:
    from domain.ids import CITY_ID_MESSAGE, is_city_id

    if not is_city_id(city_id):
        raise fail(f"CITY {CITY_ID_MESSAGE}, not {city_id!r}")
    return city_id


def _cell(value: Any) -> str:
    """A value as a table shows it: times in UTC to the second, scores as percentages."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.1%}"
    return str(getattr(value, "value", value))


# --- tokens ----------------------------------------------------------------------------------------


TokenIdArg = Annotated[
    str, typer.Argument(metavar="ID", help="The token's id, e.g. tok_0123456789ab", show_default=False)
]


@token_app.command("create")
def token_create(
    role: Annotated[
        str | None, typer.Option(help="city, reviewer, committee or operator", show_default=False)
    ] = None,
    person: Annotated[
        str | None,
        typer.Option(
            help="A person of the registry (citycert people add): the token takes their role and "
            "city, and their id as its identity, so their events name them by id",
            show_default=False,
        ),
    ] = None,
    city: Annotated[
        str | None,
        typer.Option(help="The city of a city token; a reviewer's home city (for a new identity)"),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="The identity it speaks for, unique per role: the actor id of its events (letters, "
            "digits, . _ @ -). A second token for an existing name is bound to the same city; "
            "without a name the token is an identity of its own"
        ),
    ] = None,
) -> None:
    """Create an API token and print it, alone, on stdout: it is shown once and stored hashed.

    It expires after CITYCERT_TOKEN_LIFETIME (90 days), an operator's after
    CITYCERT_OPERATOR_TOKEN_LIFETIME (7 days); `citycert token rotate` renews it.
    """
    from app.tokens import TokenError, create_token, issue_person_token

    if (role is None) == (person is None):
        raise fail("give --role (with --city and --name as it needs) or --person, not both")
    if person is not None and (city or name):
        raise fail("--person brings its own city and identity: leave out --city and --name")
    settings = load_settings()

    async def work() -> str:
        async with open_store(settings) as store:
            if person is not None:
                issued = await issue_person_token(store, person, lifetimes=settings.token_lifetime_of)
                return issued.secret
            assert role is not None
            return await create_token(store, role, city=city, name=name, lifetimes=settings.token_lifetime_of)

    try:
        secret = run(work)
    except TokenError as e:
        raise fail(str(e)) from None
    typer.echo(secret)


def _token_json(info: TokenInfo, now: datetime) -> dict[str, Any]:
    return {
        "id": info.id,
        "role": info.role,
        "subject": info.subject,
        "city_id": info.city_id,
        "created_at": info.created_at.isoformat(),
        "expires_at": info.expires_at.isoformat(),
        "last_used_at": info.last_used_at.isoformat() if info.last_used_at else None,
        "revoked_at": info.revoked_at.isoformat() if info.revoked_at else None,
        "replaced_by": info.replaced_by,
        "status": info.status(now),
    }


@token_app.command("list")
def token_list(as_json: JsonOption = False) -> None:
    """List every token, oldest first; never a secret nor a hash.

    Each with its identity (role, subject), city, when it was made, expires and was last used (to
    the minute), and its status: active, expired or revoked.
    """
    from app.tokens import database_now, list_tokens

    settings = load_settings()

    async def work() -> tuple[list[TokenInfo], datetime]:
        async with open_store(settings) as store:
            return await list_tokens(store), await database_now(store)

    tokens, now = run(work)
    rows = [_token_json(t, now) for t in tokens]
    emit(
        rows,
        as_json,
        lambda: print_table(
            f"{len(rows)} tokens",
            ("id", "role", "subject", "city", "created", "expires", "last used", "status"),
            [
                (
                    t.id,
                    t.role,
                    t.subject,
                    t.city_id or "",
                    _cell(t.created_at),
                    _cell(t.expires_at),
                    _cell(t.last_used_at),
                    t.status(now),
                )
                for t in tokens
            ],
        ),
    )


@token_app.command("revoke")
def token_revoke(token_id: TokenIdArg) -> None:
    """Revoke a token at once: the API then answers it 401, saying it was revoked."""
    from app.tokens import get_token, revoke_token

    settings = load_settings()

    async def work() -> tuple[bool, TokenInfo | None]:
        async with open_store(settings) as store:
            done = await revoke_token(store, token_id)
            return done, await get_token(store, token_id)

    done, info = run(work)
    if info is None:
        raise fail(f"no token {token_id!r}")
    assert info.revoked_at is not None
    when = _cell(info.revoked_at)
    console.print(f"{token_id} revoked" if done else f"{token_id} was already revoked ({when} UTC)")


@token_app.command("rotate")
def token_rotate(token_id: TokenIdArg) -> None:
    """Replace a token by a new one for the same identity, and print the new secret alone.

    The new token has the same role, identity and city and a fresh lifetime; the old one is revoked
    at once. The secret is shown this once. An expired token may be rotated (that renews it), a
    revoked one not.
    """
    from app.tokens import IssuedToken, TokenError, rotate_token

    settings = load_settings()

    async def work() -> IssuedToken:
        async with open_store(settings) as store:
            return await rotate_token(store, token_id, lifetimes=settings.token_lifetime_of)

    try:
        issued = run(work)
    except TokenError as e:
        raise fail(str(e)) from None
    typer.echo(issued.secret)


# --- cities ----------------------------------------------------------------------------------------


def _status_out(status: CitySummary) -> list[tuple[str, str]]:
    return [
        (
            "city",
            f"{status.city_id} ({status.name}, {', '.join(filter(None, [status.region, status.country]))})",
        ),
        ("phase", status.phase.value),
        ("level", _cell(status.level)),
        ("valid until", _cell(status.valid_until)),
        ("round", status.round_id or ""),
        ("standard", status.standard_version or ""),
        ("score", _cell(status.score)),
        ("recommended level", _cell(status.recommended_level)),
        ("open review items", str(status.open_review_items)),
        ("events", str(status.version)),
    ]


def _print_fields(title: str, rows: list[tuple[str, str]]) -> None:
    """A record as a two-column table without a header: field, value."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(title), show_header=False)
    for name, value in rows:
        table.add_row(name, Text(value))  # Text: a city's name is data, never rich markup
    console.print(table)


def _print_result(title: str, outcome: CommandOutcome) -> None:
    rows = [(e.type, ", ".join(f"{k}={v}" for k, v in e.data.items())[:100]) for e in outcome.events]
    print_table(title, ("event", "data"), rows)
    _print_fields(f"{outcome.city_id} now", _status_out(outcome.summary))


_EVENT_FIELDS = {"event_id", "type", "occurred_at", "data"}


def _command_json(outcome: CommandOutcome) -> Any:
    """The same fields the API's command responses have: the events recorded, the status after."""
    return {
        "city_id": outcome.city_id,
        "events": [
            e.model_dump(mode="json", include={"event_id", "type", "occurred_at", "data"})
            for e in outcome.events
        ],
        "status": outcome.summary.model_dump(mode="json"),
    }


RegionOpt = Annotated[str | None, typer.Option(help="The state or province", show_default=False)]
PopulationSourceOpt = Annotated[
    str | None,
    typer.Option(help="Where the population figure comes from, e.g. 'US Census'", show_default=False),
]
PopulationYearOpt = Annotated[
    int | None, typer.Option(help="The population figure's year", show_default=False)
]
_PROFILE_OPTIONS = {
    "region": "--region",
    "population_source": "--population-source",
    "population_year": "--population-year",
}


@city_app.command("register")
def city_register(
    city_id: CityArg,
    name: Annotated[str, typer.Option(help="The city's name", show_default=False)],
    country: Annotated[
        str,
        typer.Option(
            help="An ISO 3166 code (US, CA) or the country's name in English, Spanish or Portuguese "
            "(Canada, Brasil, Estados Unidos); recorded as the two-letter code",
            show_default=False,
        ),
    ],
    population: Annotated[int, typer.Option(help="Residents", show_default=False)],
    region: RegionOpt = None,
    population_source: PopulationSourceOpt = None,
    population_year: PopulationYearOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Register a city and start its workflow (as POST /v1/cities does).

    An ineligible city is refused with the reasons (exit 2) and nothing is recorded. Needs a
    worker: run it beside `citycert dev`, or point CITYCERT_TEMPORAL_ADDRESS at your cluster.
    """
    from app.commands import check_registration
    from app.countries import UnknownCountry, resolve_country
    from domain import commands as cmd

    try:
        code = resolve_country(country)  # the name people type, as the API resolves it
    except UnknownCountry as e:
        raise fail(f"--country: {e}") from None
    command = _checked(
        lambda: cmd.RegisterCity(
            city_id=city_id,
            name=name,
            country=code,
            population=population,
            region=region,
            population_source=population_source,
            population_year=population_year,
        ),
        {
            "city_id": "ID",
            "name": "--name",
            "country": "--country",
            "population": "--population",
            **_PROFILE_OPTIONS,
        },
    )
    settings = load_settings()

    async def work() -> CommandOutcome:
        async with connected(settings) as ctx:
            # Checked on the stored state first: a refusal needs neither Temporal nor a worker.
            await check_registration(ctx.store, command, settings.policy())
            async with ctx.temporal():
                return await ctx.services().commands.register(command, operator_actor())

    result = run(work)
    emit(
        _command_json(result),
        as_json,
        lambda: _print_result(f"{command.city_id} registered", result),
    )


@city_app.command("correct")
def city_correct(
    city_id: CityArg,
    reason: Annotated[str, typer.Option(help="Why, for the record", show_default=False)],
    name: Annotated[str | None, typer.Option(help="The city's name", show_default=False)] = None,
    population: Annotated[int | None, typer.Option(help="Residents", show_default=False)] = None,
    population_source: PopulationSourceOpt = None,
    population_year: PopulationYearOpt = None,
    region: RegionOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Correct a city's profile (as POST /v1/cities/{id}/profile-corrections does): the options
    given are corrected, the rest stay. Refused (exit 2) when nothing would change."""
    from domain import commands as cmd

    _city_id(city_id)
    who = operator_actor()
    command = _checked(
        lambda: cmd.CorrectCityProfile(
            name=name,
            population=population,
            population_source=population_source,
            population_year=population_year,
            region=region,
            reason=reason,
            corrected_by=who.id,
        ),
        {"name": "--name", "population": "--population", "reason": "--reason", **_PROFILE_OPTIONS},
    )
    settings = load_settings()

    async def work() -> CommandOutcome:
        async with connected(settings) as ctx, ctx.temporal():
            return await ctx.services().commands.give(city_id, command, who)

    result = run(work)
    emit(_command_json(result), as_json, lambda: _print_result(f"{city_id}: profile corrected", result))


@city_app.command("show")
def city_show(city_id: CityArg, as_json: JsonOption = False) -> None:
    """Where a city stands: phase, level, validity, score, recommended level, open review items."""
    _city_id(city_id)
    settings = load_settings()

    async def work() -> tuple[CityStatus | None, list[ReviewItem]]:
        import readmodel

        async with open_store(settings) as store:
            status = await readmodel.city_summary(store, city_id)
            return status, await readmodel.open_review_items(store, city_id)

    status, items = run(work)
    if status is None:
        raise fail(f"no city {city_id!r} is registered")
    open_items = [i.model_dump(mode="json", exclude={"city_id", "round_id"}) for i in items]

    def human() -> None:
        _print_fields(status.city_id, _status_out(status))
        if open_items:
            print_table(
                "open review items",
                ("criterion", "status", "waiting on", "reviewer", "due", "escalated"),
                [
                    (
                        i.criterion_id,
                        i.status,
                        i.waiting_on,
                        i.reviewer_id,
                        _cell(i.due_at),
                        "yes" if i.escalated else "",
                    )
                    for i in items
                ],
            )

    emit({**status.model_dump(mode="json"), "open_items": open_items}, as_json, human)


@city_app.command("list")
def city_list(
    level: Annotated[Level | None, typer.Option(help="Only cities holding this level")] = None,
    phase: Annotated[Phase | None, typer.Option(help="Only cities in this phase")] = None,
    round_id: Annotated[str | None, typer.Option("--round", help="Only cities of this round")] = None,
    as_json: JsonOption = False,
) -> None:
    """Cities from the city_status projection, by id, optionally filtered."""
    if round_id is not None and "\x00" in round_id:
        raise fail("--round must not contain NUL characters")
    settings = load_settings()

    async def work() -> list[CityStatus]:
        import readmodel
        from app.rounds import recorded_as

        async with open_store(settings) as store:
            # A round matches its adopted cohorts too, as the API's and the operator page's filter.
            names = await recorded_as(store, round_id) if round_id is not None else None
            return await readmodel.list_cities(store, level=level, phase=phase, round_id=names)

    statuses = run(work)

    def human() -> None:
        print_table(
            f"{len(statuses)} cities",
            (
                "id",
                "name",
                "region",
                "country",
                "phase",
                "level",
                "valid until",
                "round",
                "score",
                "recommended",
                "open",
            ),
            [
                (
                    s.city_id,
                    s.name,
                    s.region or "",
                    s.country,
                    s.phase.value,
                    _cell(s.level),
                    s.valid_until.date().isoformat() if s.valid_until else "",
                    s.round_id,
                    _cell(s.score),
                    _cell(s.recommended_level),
                    s.open_review_items,
                )
                for s in statuses
            ],
        )

    emit([s.model_dump(mode="json") for s in statuses], as_json, human)


@city_app.command("worksheet")
def city_worksheet(city_id: CityArg, as_json: JsonOption = False) -> None:
    """The review worksheet of the city's open cycle: per criterion, its status, the checklist items
    claimed and found met (k of n), its required documents filled, what an approval would be refused
    for, and whether a prerequisite keeps it from earning its point."""
    _city_id(city_id)
    settings = load_settings()

    async def work() -> Any:
        import readmodel

        async with open_store(settings) as store:
            try:
                return await readmodel.city_worksheet(store, city_id)
            except readmodel.NoCity:
                raise fail(f"no city {city_id!r} is registered") from None

    sheet = run(work)
    if sheet is None:
        raise fail(f"{city_id} has no open certification cycle: a worksheet is a cycle's")

    def human() -> None:
        illustrative = any(c.checklist.illustrative for c in sheet.criteria)
        title = f"{city_id}: cycle {sheet.cycle} against {sheet.standard_version} r{sheet.standard_revision}"
        if illustrative:
            title += " (checklists marked * are illustrative)"
        print_table(
            title,
            ("criterion", "status", "claimed", "met", "documents", "falls short / cannot earn"),
            [
                (
                    f"{c.criterion_id}{' *' if c.checklist.illustrative else ''}",
                    c.status.value if c.status else "not submitted",
                    f"{','.join(map(str, c.claimed)) or '-'} (needs {c.checklist.min_met} of "
                    f"{len(c.checklist.items)})",
                    ",".join(map(str, c.checklist_met)) + (" override" if c.override else ""),
                    f"{sum(s.filled for s in c.required_documents)} of {len(c.required_documents)}",
                    "; ".join([*([c.cannot_earn] if c.cannot_earn else []), *c.shortfalls]),
                )
                for c in sheet.criteria
            ],
        )

    emit(sheet.model_dump(mode="json"), as_json, human)


# --- reviews ---------------------------------------------------------------------------------------

ReviewCity = Annotated[
    str, typer.Argument(metavar="CITY", help="The city whose evidence is reviewed", show_default=False)
]
Criteria = Annotated[
    list[str],
    typer.Argument(
        metavar="CRITERION",
        help="Criterion ids, e.g. 'DM1' 'DM2' (quote ids with spaces)",
        show_default=False,
    ),
]
TokenFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help=f"A file holding the reviewer's token; else the token is read from {TOKEN_ENV}. Never "
        "the token itself on the command line (every user of the machine sees it in `ps`)",
        show_default=False,
    ),
]


def _items_met(given: list[str], criteria: list[str]) -> dict[str, list[int]]:
    """--met values by criterion: "1,3" is every named criterion's, "DM2=1,3" one criterion's."""
    met: dict[str, list[int]] = {}
    for value in given:
        criterion, _, numbers = value.rpartition("=")
        criterion = criterion.strip()
        if criterion and criterion not in criteria:
            raise fail(f"--met {value!r} names {criterion!r}, which is not among the criteria reviewed")
        words = [w for w in numbers.replace(",", " ").split() if w]
        if not words or not all(w.isdigit() for w in words):
            raise fail(f"--met {value!r}: give checklist item numbers, e.g. --met 1,3 or --met 'DM2=1,3'")
        for cid in [criterion] if criterion else criteria:
            met[cid] = sorted({*met.get(cid, []), *map(int, words)})
    return met


def _review(
    decision: str,
    city: str,
    criteria: list[str],
    token_file: Path | None,
    note: str,
    as_json: bool,
    *,
    met: list[str] | None = None,
    override: str = "",
) -> None:
    """A review as the token's reviewer: the identity and home city are the token's, never typed."""
    from app.tokens import TokenRefused, authenticate
    from domain import Actor
    from domain import commands as cmd

    _city_id(city)
    secret = token_secret(token_file)
    found_met = _items_met(met or [], criteria)
    items: list[dict[str, Any]] = [{"criterion_id": c, "decision": decision, "note": note} for c in criteria]
    if decision == "approve":
        items = [
            {**item, "checklist_met": found_met.get(item["criterion_id"], []), "override": override}
            for item in items
        ]
    _checked(
        lambda: cmd.ReviewEvidence.model_validate(
            {"reviewer_id": "reviewer", "reviewer_home_city": "somewhere", "items": items}
        ),
        {"items": "CRITERION"},
    )
    settings = load_settings()

    async def work() -> tuple[CommandOutcome, str]:
        async with connected(settings) as ctx:
            try:
                who = await authenticate(ctx.store, secret)
            except TokenRefused as e:
                raise fail(f"the reviewer's token: {e.message}") from None
            if who.role != "reviewer" or who.city_id is None:
                raise fail(f"a {who.role} token may not review; it needs a reviewer's token")
            command = cmd.ReviewEvidence.model_validate(
                {"reviewer_id": who.subject, "reviewer_home_city": who.city_id, "items": items}
            )
            async with ctx.temporal():
                outcome = await ctx.services().commands.give(
                    city, command, Actor(role="reviewer", id=who.subject)
                )
            return outcome, who.subject

    result, reviewer = run(work)
    emit(
        _command_json(result),
        as_json,
        lambda: _print_result(f"{city}: {len(criteria)} reviewed by {reviewer}", result),
    )


@review_app.command("reopen")
def review_reopen(
    city: ReviewCity,
    criterion: Annotated[
        str, typer.Argument(metavar="CRITERION", help="The decided criterion", show_default=False)
    ],
    reason: Annotated[str, typer.Option(help="Why it is reopened, for the record", show_default=False)],
    token_file: TokenFileOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Reopen a decided item (approved or rejected) as the cycle's lead reviewer, until the review
    completes: it awaits a reviewer's decision again (as POST /v1/cities/{id}/reviews/reopening)."""
    from app.tokens import TokenRefused, authenticate
    from domain import Actor
    from domain import commands as cmd

    _city_id(city)
    secret = token_secret(token_file)
    _checked(
        lambda: cmd.ReopenReviewItem(criterion_id=criterion, reason=reason, reopened_by="reviewer"),
        {"criterion_id": "CRITERION", "reason": "--reason"},
    )
    settings = load_settings()

    async def work() -> CommandOutcome:
        async with connected(settings) as ctx:
            try:
                who = await authenticate(ctx.store, secret)
            except TokenRefused as e:
                raise fail(f"the reviewer's token: {e.message}") from None
            if who.role != "reviewer":
                raise fail(f"a {who.role} token may not reopen an item; it needs the lead reviewer's token")
            command = cmd.ReopenReviewItem(criterion_id=criterion, reason=reason, reopened_by=who.subject)
            async with ctx.temporal():
                return await ctx.services().commands.give(
                    city, command, Actor(role="reviewer", id=who.subject)
                )

    result = run(work)
    emit(_command_json(result), as_json, lambda: _print_result(f"{city}: {criterion} reopened", result))


@review_app.command("approve")
def review_approve(
    city: ReviewCity,
    criteria: Criteria,
    token_file: TokenFileOpt = None,
    note: Annotated[str, typer.Option(help="A note kept with each decision")] = "",
    met: Annotated[
        list[str] | None,
        typer.Option(
            "--met",
            help="Checklist items found met, by number: '1,3' for every criterion named, 'DM2=1,3' for "
            "one (repeatable). An approval needs the criterion's k of n unless --override says why",
            show_default=False,
        ),
    ] = None,
    override: Annotated[
        str,
        typer.Option(
            help="Why the approvals stand although a checklist or a required document falls short "
            "(recorded with each)"
        ),
    ] = "",
    as_json: JsonOption = False,
) -> None:
    """Approve the evidence of one or more criteria, in one command, as the token's reviewer, naming
    the checklist items found met (--met). Under the programme's review rules an approval below the
    criterion's "k of n", or with a required document missing, is refused unless --override gives
    the reason."""
    _review("approve", city, criteria, token_file, note, as_json, met=met, override=override)


@review_app.command("reject")
def review_reject(
    city: ReviewCity,
    criteria: Criteria,
    token_file: TokenFileOpt = None,
    note: Annotated[str, typer.Option(help="Why, kept with each decision")] = "",
    as_json: JsonOption = False,
) -> None:
    """Reject the evidence of one or more criteria, in one command, as the token's reviewer."""
    _review("reject", city, criteria, token_file, note, as_json)


@review_app.command("clarify")
def review_clarify(
    city: ReviewCity,
    criteria: Criteria,
    token_file: TokenFileOpt = None,
    note: Annotated[str, typer.Option(help="What the city must clarify (required)")] = "",
    as_json: JsonOption = False,
) -> None:
    """Ask the city to clarify the evidence of one or more criteria (--note says what), as the
    token's reviewer."""
    _review("request_clarification", city, criteria, token_file, note, as_json)


# --- reviewers: practice areas, the lead, conflicts, sign-off ----------------------------------------

ReviewerArg = Annotated[
    str,
    typer.Argument(
        metavar="REVIEWER",
        help="A reviewer person's id (per_...), or a reviewer token's identity",
        show_default=False,
    ),
]
HomeCityOpt = Annotated[
    str | None,
    typer.Option(
        "--home-city",
        help="The reviewer's home city: only for a reviewer who is not a person (a person's is on "
        "their record)",
    ),
]


def _home_city(reviewer_id: str, home_city: str | None) -> str:
    from domain.people import is_person_id

    if home_city is not None:
        return _city_id(home_city)
    if is_person_id(reviewer_id):
        return "unknown"  # the command service fills it from the person's record
    raise fail(f"{reviewer_id} is not a person of the registry: give their --home-city")


def _as_operator(city: str, command: Any, title: str, as_json: bool) -> None:
    settings = load_settings()

    async def work() -> CommandOutcome:
        async with connected(settings) as ctx, ctx.temporal():
            outcome: CommandOutcome = await ctx.services().commands.give(city, command, operator_actor())
            return outcome

    result = run(work)
    emit(_command_json(result), as_json, lambda: _print_result(title, result))


def _as_reviewer(
    city: str, token_file: Path | None, build: Callable[[str], Any], what: str, as_json: bool
) -> None:
    """A reviewer's own command, as the token's reviewer (the identity is the token's, never typed)."""
    from app.tokens import TokenRefused, authenticate
    from domain import Actor

    _city_id(city)
    _checked(lambda: build("reviewer"))
    secret = token_secret(token_file)
    settings = load_settings()

    async def work() -> tuple[CommandOutcome, str]:
        async with connected(settings) as ctx:
            try:
                who = await authenticate(ctx.store, secret)
            except TokenRefused as e:
                raise fail(f"the reviewer's token: {e.message}") from None
            if who.role != "reviewer":
                raise fail(f"a {who.role} token may not give this; it needs a reviewer's token")
            async with ctx.temporal():
                outcome = await ctx.services().commands.give(
                    city, build(who.subject), Actor(role="reviewer", id=who.subject)
                )
            return outcome, who.subject

    result, reviewer = run(work)
    emit(_command_json(result), as_json, lambda: _print_result(f"{city}: {what} by {reviewer}", result))


@review_app.command("assign-area")
def review_assign_area(
    city: ReviewCity,
    reviewer: ReviewerArg,
    area: Annotated[
        str, typer.Argument(metavar="AREA", help="A practice area id, e.g. DM", show_default=False)
    ],
    home_city: HomeCityOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Give a reviewer a practice area of the city's cycle (an operator's): its criteria waiting
    for a reviewer, and those submitted in it later."""
    from domain import commands as cmd

    command = _checked(
        lambda: cmd.AssignPracticeArea(
            reviewer_id=reviewer, reviewer_home_city=_home_city(reviewer, home_city), practice_area=area
        ),
        {"reviewer_id": "REVIEWER", "practice_area": "AREA"},
    )
    _as_operator(_city_id(city), command, f"{city}: {area} assigned to {reviewer}", as_json)


@review_app.command("assign-automatically")
def review_assign_automatically(city: ReviewCity, as_json: JsonOption = False) -> None:
    """Give every practice area of the city's cycle that waits for a reviewer to the least loaded
    eligible reviewer (their profiles: areas, capacity, conflicts), never a conflicted one; refused
    with each area's reason, and nothing assigned, when an area has nobody eligible."""
    from app.assignment import AutomaticAssignment, assign_automatically

    _city_id(city)
    settings = load_settings()

    async def work() -> AutomaticAssignment:
        async with connected(settings) as ctx, ctx.temporal():
            return await assign_automatically(ctx.services().commands, city, operator_actor())

    done = run(work)
    data = {
        "city_id": city,
        "assignments": [a.model_dump(mode="json") for a in done.assignments],
        "events": [e for outcome in done.outcomes for e in _command_json(outcome)["events"]],
    }
    emit(
        data,
        as_json,
        lambda: print_table(
            f"{city}: {len(done.assignments)} practice areas assigned",
            ("area", "reviewer", "criteria"),
            [(a.practice_area, a.reviewer_id, ", ".join(a.criterion_ids)) for a in done.assignments],
        ),
    )


@review_app.command("assign-lead")
def review_assign_lead(
    city: ReviewCity, reviewer: ReviewerArg, home_city: HomeCityOpt = None, as_json: JsonOption = False
) -> None:
    """Name the cycle's lead reviewer (an operator's): they may decide any item and sign off the review."""
    from domain import commands as cmd

    command = _checked(
        lambda: cmd.AssignLeadReviewer(
            reviewer_id=reviewer, reviewer_home_city=_home_city(reviewer, home_city)
        ),
        {"reviewer_id": "REVIEWER"},
    )
    _as_operator(_city_id(city), command, f"{city}: {reviewer} is the lead reviewer", as_json)


@review_app.command("no-conflict")
def review_no_conflict(
    city: ReviewCity, token_file: TokenFileOpt = None, as_json: JsonOption = False
) -> None:
    """Declare, as the token's reviewer, no conflict of interest with the city: before seeing its evidence."""
    from domain import commands as cmd

    _as_reviewer(
        city, token_file, lambda who: cmd.DeclareNoConflict(reviewer_id=who), "no conflict declared", as_json
    )


@review_app.command("conflict")
def review_conflict(
    city: ReviewCity,
    reason: Annotated[
        str, typer.Option(help="The conflict: the relationship with the city", show_default=False)
    ],
    token_file: TokenFileOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Declare, as the token's reviewer, a conflict of interest with the city: their items go back
    to awaiting assignment."""
    from domain import commands as cmd

    _as_reviewer(
        city,
        token_file,
        lambda who: cmd.DeclareConflict(reviewer_id=who, reason=reason),
        "conflict declared",
        as_json,
    )


@review_app.command("sign-off")
def review_sign_off(
    city: ReviewCity,
    note: Annotated[str, typer.Option(help="A note kept with the sign-off")] = "",
    token_file: TokenFileOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Sign off, as the cycle's lead reviewer, the review behind the recommended level."""
    from domain import commands as cmd

    _as_reviewer(
        city, token_file, lambda who: cmd.SignOffReview(reviewer_id=who, note=note), "signed off", as_json
    )


# --- history ---------------------------------------------------------------------------------------


def _moment(text: str, option: str = "--as-of") -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise fail(
            f"{option} {text!r} is not a date or time; use ISO 8601, "
            "e.g. 2026-03-01 or 2026-03-01T12:00:00+02:00"
        ) from None
    if not 1000 <= moment.year <= 9000:
        raise fail(f"{option} must be between the years 1000 and 9000")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def history(
    city_id: CityArg,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="A date or time (ISO 8601, UTC unless an offset is given): the events recorded by then "
            "and the state they fold to",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A city's event timeline and the state it folds to, now or as the store held it --as-of a moment."""
    _city_id(city_id)
    moment = _moment(as_of) if as_of is not None else None
    settings = load_settings()

    async def work() -> tuple[list[Any], Any, int]:
        import readmodel

        async with open_store(settings) as store:
            stream = readmodel.city_stream(city_id)
            events = await (
                store.read_stream(stream) if moment is None else store.read_stream_as_of(stream, moment)
            )
            state = await readmodel.fold_off_loop(store, readmodel.CityState.initial(city_id), events)
            total = len(events) if moment is None else await store.stream_version(stream)
        return events, state, total

    events, state, total = run(work)
    if total == 0:
        raise fail(f"no city {city_id!r} is registered")
    timeline = [
        {
            "version": e.version,
            "occurred_at": e.occurred_at.isoformat(),
            "recorded_at": e.recorded_at.isoformat(),
            "type": e.type,
            "actor": f"{e.actor.role}:{e.actor.id}",
        }
        for e in events
    ]
    data = {
        "city_id": city_id,
        "as_of": moment.isoformat() if moment else None,
        "events": timeline,
        "state": state.model_dump(mode="json"),
    }

    def human() -> None:
        when = f" as of {_cell(moment)} UTC" if moment else ""
        print_table(
            f"{city_id}: {len(events)} of {total} events{when}",
            ("version", "occurred", "recorded", "type", "actor"),
            [
                (
                    e.version,
                    _cell(e.occurred_at),
                    _cell(e.recorded_at),
                    e.type,
                    f"{e.actor.role}:{e.actor.id}",
                )
                for e in events
            ],
        )
        if not events:
            console.print("nothing was recorded by then")
            return
        _print_fields(f"state{when}", _status_out(state.summary()))

    emit(data, as_json, human)


# --- site visits and deadlines ---------------------------------------------------------------------


def _day(option: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise fail(f"{option} {text!r} is not a date; use ISO 8601, e.g. 2026-03-01") from None


def _give_as_operator(title: str, city: str, command: Any, as_json: bool) -> None:
    """Give `command` to the city as the operator running the CLI, and print what it recorded."""
    _city_id(city)
    settings = load_settings()

    async def work() -> CommandOutcome:
        async with connected(settings) as ctx, ctx.temporal():
            return await ctx.services().commands.give(city, command, operator_actor())

    result = run(work)
    emit(_command_json(result), as_json, lambda: _print_result(f"{city}: {title}", result))


DayOpt = Annotated[str, typer.Option("--date", help="The day, ISO 8601 (2026-03-01)", show_default=False)]
WhyOpt = Annotated[str, typer.Option("--reason", help="Why, for the record", show_default=False)]
Ids = Annotated[list[str] | None, typer.Option(help="A criterion id; repeat the option for more")]


@visit_app.command("schedule")
def visit_schedule(city: CityArg, day: DayOpt, as_json: JsonOption = False) -> None:
    """Schedule the city's site visit (not in the past)."""
    from domain import commands as cmd

    command = _checked(lambda: cmd.ScheduleSiteVisit(visit_date=_day("--date", day)))
    _give_as_operator("site visit scheduled", city, command, as_json)


@visit_app.command("reschedule")
def visit_reschedule(city: CityArg, day: DayOpt, reason: WhyOpt, as_json: JsonOption = False) -> None:
    """Move the scheduled visit to another day, saying why."""
    from domain import commands as cmd

    command = _checked(
        lambda: cmd.RescheduleSiteVisit(visit_date=_day("--date", day), reason=reason), {"reason": "--reason"}
    )
    _give_as_operator("site visit rescheduled", city, command, as_json)


@visit_app.command("complete")
def visit_complete(
    city: CityArg,
    findings: Annotated[str, typer.Option(help="What the visit found, in words", show_default=False)],
    day: Annotated[
        str | None,
        typer.Option(
            "--date", help="The day it took place, when it was not scheduled here (not in the future)"
        ),
    ] = None,
    confirm: Ids = None,
    overturn: Ids = None,
    clear: Ids = None,
    as_json: JsonOption = False,
) -> None:
    """Record the visit: the one scheduled, or one held on --date without scheduling it first.
    --confirm keeps a criterion's decision, --overturn rejects an approval the visit found
    unsupported, --clear approves a rejection the visit saw met on site. A level is recommended."""
    from domain import commands as cmd

    found = [
        {"criterion_id": cid, "finding": finding}
        for finding, ids in (("confirm", confirm), ("overturn", overturn), ("clear", clear))
        for cid in ids or []
    ]
    command = _checked(
        lambda: cmd.CompleteSiteVisit.model_validate(
            {
                "findings": findings,
                "visit_date": _day("--date", day) if day else None,
                "criterion_findings": found,
            }
        ),
        {"findings": "--findings", "criterion_findings": "--confirm/--overturn/--clear"},
    )
    _give_as_operator("site visit recorded", city, command, as_json)


@visit_app.command("waive")
def visit_waive(city: CityArg, reason: WhyOpt, as_json: JsonOption = False) -> None:
    """Waive the visit, saying why (the operator running this approves it). A level is recommended."""
    from domain import commands as cmd

    command = _checked(lambda: cmd.WaiveSiteVisit(reason=reason), {"reason": "--reason"})
    _give_as_operator("site visit waived", city, command, as_json)


@deadline_app.command("extend")
def deadline_extend(
    city: CityArg,
    deadline: Annotated[
        str,
        typer.Option(
            help="submission, visit_scheduling, committee, review or clarification", show_default=False
        ),
    ],
    until: Annotated[
        str,
        typer.Option(help="The new due moment, ISO 8601 (UTC unless an offset is given)", show_default=False),
    ],
    reason: WhyOpt,
    criterion: Annotated[str | None, typer.Option(help="For a review or clarification deadline")] = None,
    as_json: JsonOption = False,
) -> None:
    """Extend a running deadline to a later moment, saying why: its people are told near the new
    date, and it is escalated only after it."""
    from domain import commands as cmd

    command = _checked(
        lambda: cmd.ExtendDeadline.model_validate(
            {
                "deadline": deadline,
                "criterion_id": criterion,
                "due_at": _moment(until, "--until"),
                "reason": reason,
            }
        ),
        {"deadline": "--deadline", "criterion_id": "--criterion", "reason": "--reason"},
    )
    _give_as_operator(f"{deadline} deadline extended", city, command, as_json)


# --- the programme's actions on a certification ---------------------------------------------------


@city_app.command("suspend")
def city_suspend(city: CityArg, reason: WhyOpt, as_json: JsonOption = False) -> None:
    """Suspend the certification the city holds (its certificate shows as suspended until reinstated)."""
    from domain import commands as cmd

    by = operator_actor().id
    _give_as_operator(
        "certification suspended",
        city,
        _checked(lambda: cmd.SuspendCertification(reason=reason, suspended_by=by)),
        as_json,
    )


@city_app.command("reinstate")
def city_reinstate(city: CityArg, reason: WhyOpt, as_json: JsonOption = False) -> None:
    """Reinstate the city's suspended certification."""
    from domain import commands as cmd

    by = operator_actor().id
    command = _checked(lambda: cmd.ReinstateCertification(reason=reason, reinstated_by=by))
    _give_as_operator("certification reinstated", city, command, as_json)


@city_app.command("revoke")
def city_revoke(city: CityArg, reason: WhyOpt, as_json: JsonOption = False) -> None:
    """Revoke the certification the city holds: it ends for good, its certificate shows as revoked."""
    from domain import commands as cmd

    by = operator_actor().id
    _give_as_operator(
        "certification revoked",
        city,
        _checked(lambda: cmd.RevokeCertification(reason=reason, revoked_by=by)),
        as_json,
    )


@city_app.command("rejoin")
def city_rejoin(city: CityArg, reason: WhyOpt, as_json: JsonOption = False) -> None:
    """Bring a withdrawn city back into the programme: registered again, its history kept."""
    from domain import commands as cmd

    by = operator_actor().id
    _give_as_operator(
        "rejoined the programme",
        city,
        _checked(lambda: cmd.RejoinProgramme(reason=reason, rejoined_by=by)),
        as_json,
    )
