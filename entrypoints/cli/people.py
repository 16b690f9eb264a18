"""`citycert people`: the people who use citycert, as the API's /v1/people keeps them (app/people.py).

Their details are personal data, kept outside the event log; `erase` removes them for good and
keeps the id, role and city, so history that names the id still resolves. Bad details exit 2 with
the rule in words (domain/people.py), as the API answers 422.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError

from domain.people import PersonRole
from entrypoints.cli.context import load_settings, open_store, run
from entrypoints.cli.output import console, emit, fail, print_table

if TYPE_CHECKING:
    from domain.people import Person, StoredReviewerProfile
    from eventstore import EventStore

people_app = typer.Typer(
    help="People: city staff, reviewers, committee members, operators (personal data, erasable).",
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
PersonArg = Annotated[
    str, typer.Argument(metavar="ID", help="The person's id, e.g. per_3f2a9c0d1e4b5a6f", show_default=False)
]
_OPTIONS = {
    "name": "--name",
    "email": "--email",
    "language": "--language",
    "city_id": "--city",
    "role": "--role",
    "organisation": "--organisation",
    "practice_areas": "--area",
    "capacity": "--capacity",
    "conflicts": "--conflict",
}
_ROLES = {r.value for r in PersonRole}


def register(app: typer.Typer) -> None:
    app.add_typer(people_app, name="people")


def _refused(e: ValidationError) -> typer.Exit:
    """The domain's refusal, with fields named as the options that gave them."""
    problems = []
    for err in e.errors(include_url=False, include_context=False):
        loc = [str(part) for part in err["loc"]]
        if loc and loc[0] in _ROLES:  # the union's tag: which kind of person was being read
            loc = loc[1:]
        message = str(err["msg"]).removeprefix("Value error, ").replace("city_id", "--city")
        problems.append(f"{_OPTIONS.get(loc[0], loc[0])}: {message}" if loc else message)
    return fail("; ".join(problems))


def _with_store(work: Callable[[EventStore], Awaitable[Any]]) -> Any:
    settings = load_settings()

    async def body() -> Any:
        async with open_store(settings) as store:
            return await work(store)

    return run(body)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat(timespec="seconds"))
    return str(getattr(value, "value", value))


def _status(person: Person) -> str:
    return "erased" if person.erased_at else "active" if person.active else "deactivated"


def _print_person(person: Person) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(person.id), show_header=False)
    rows = [
        ("name", person.name),
        ("e-mail", person.email),
        ("language", person.language),
        ("role", person.role),
        ("city", person.city_id),
        ("status", _status(person)),
        ("added", person.created_at),
        ("deactivated", person.deactivated_at),
        ("erased", person.erased_at),
    ]
    for field, value in rows:
        table.add_row(field, Text(_cell(value)))  # Text: a name is data, never rich markup
    console.print(table)


def _show(person: Person, as_json: bool) -> None:
    emit(person.model_dump(mode="json"), as_json, lambda: _print_person(person))


@people_app.command("add")
def add(
    name: Annotated[str, typer.Option(help="Their name", show_default=False)],
    email: Annotated[str, typer.Option(help="Their e-mail address", show_default=False)],
    language: Annotated[str, typer.Option(help="en, es or pt", show_default=False)],
    role: Annotated[
        str, typer.Option(help="city (staff), reviewer, committee or operator", show_default=False)
    ],
    city: Annotated[
        str | None, typer.Option(help="City staff's (registered) city; a reviewer's home city")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a person (as POST /v1/people does); prints them with their new id."""
    from app import people
    from domain.people import new_person

    fields: dict[str, Any] = {"name": name, "email": email, "language": language, "role": role}
    if city is not None:
        fields["city_id"] = city
    try:
        person = new_person(fields)
    except ValidationError as e:
        raise _refused(e) from None
    _show(_with_store(lambda store: people.add_person(store, person)), as_json)


@people_app.command("list")
def list_(
    role: Annotated[PersonRole | None, typer.Option(help="Only people of this role")] = None,
    city: Annotated[str | None, typer.Option(help="Only staff of this city, reviewers from it")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Only active, or only deactivated, people")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="People per page")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="People to skip")] = 0,
    as_json: JsonOption = False,
) -> None:
    """People in the order they were added, erased ones included (their details gone)."""
    from app import people

    found: list[Person] = _with_store(
        lambda store: people.list_people(
            store, role=role, city_id=city, active=active, limit=limit, offset=offset
        )
    )

    def human() -> None:
        print_table(
            f"{len(found)} people",
            ("id", "name", "e-mail", "language", "role", "city", "status"),
            [(p.id, p.name, p.email, _cell(p.language), p.role.value, p.city_id, _status(p)) for p in found],
        )

    emit([p.model_dump(mode="json") for p in found], as_json, human)


@people_app.command("show")
def show(person_id: PersonArg, as_json: JsonOption = False) -> None:
    """A person: details, role and city, whether active, whether erased."""
    from app import people

    _show(_with_store(lambda store: people.get_person(store, person_id)), as_json)


@people_app.command("update")
def update(
    person_id: PersonArg,
    name: Annotated[str | None, typer.Option(help="A new name")] = None,
    email: Annotated[str | None, typer.Option(help="A new e-mail address")] = None,
    language: Annotated[str | None, typer.Option(help="en, es or pt")] = None,
    as_json: JsonOption = False,
) -> None:
    """New name, e-mail or language; what is not given stays. Role and city do not change."""
    from app import people
    from domain.people import PersonChanges

    try:
        changes = PersonChanges.model_validate({"name": name, "email": email, "language": language})
    except ValidationError as e:
        raise _refused(e) from None
    _show(_with_store(lambda store: people.update_person(store, person_id, changes)), as_json)


@people_app.command("deactivate")
def deactivate(person_id: PersonArg, as_json: JsonOption = False) -> None:
    """No longer active: no longer a city's contact, their e-mail address free again.

    Their details stay (`erase` removes them)."""
    from app import people

    _show(_with_store(lambda store: people.deactivate_person(store, person_id)), as_json)


@people_app.command("erase")
def erase(person_id: PersonArg, as_json: JsonOption = False) -> None:
    """Remove a person's name, e-mail and language for good, and deactivate them.

    The id, role and city stay, so the events that name the id still say a person did it; the
    event log is untouched and `citycert verify` still passes."""
    from app import people

    _show(_with_store(lambda store: people.erase_person(store, person_id)), as_json)


def _conflict(given: str) -> dict[str, str]:
    city, sep, reason = given.partition(":")
    if not sep or not reason.strip():
        raise fail(f"--conflict {given!r}: give CITY:REASON, e.g. lakeside:'consulted for its data office'")
    return {"city_id": city.strip(), "reason": reason.strip()}


def _print_profile(profile: StoredReviewerProfile) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"{profile.person_id}: reviewer profile"), show_header=False)
    rows = [
        ("organisation", profile.organisation),
        ("practice areas", ", ".join(profile.practice_areas)),
        ("capacity", profile.capacity),
        ("conflicts", "; ".join(f"{c.city_id} ({c.reason})" for c in profile.conflicts)),
        ("updated", profile.updated_at),
    ]
    for field, value in rows:
        table.add_row(field, Text(_cell(value)))
    console.print(table)


@people_app.command("set-profile")
def set_profile(
    person_id: PersonArg,
    organisation: Annotated[str, typer.Option(help="Who they work for", show_default=False)],
    area: Annotated[
        list[str], typer.Option("--area", help="A practice area id they review (repeat: --area DM --area OD)")
    ],
    capacity: Annotated[
        int, typer.Option(help="The most open criteria they take at once", show_default=False)
    ],
    conflict: Annotated[
        list[str] | None,
        typer.Option("--conflict", help="CITY:REASON, a city they may never review and why (repeatable)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Set a reviewer's profile (as PUT /v1/people/{id}/reviewer-profile does), replacing the one
    before: automatic assignment reads it, and an assignment carries their conflicts."""
    from app import people
    from domain.people import ReviewerProfile

    fields = {
        "organisation": organisation,
        "practice_areas": area,
        "capacity": capacity,
        "conflicts": [_conflict(c) for c in conflict or []],
    }
    try:
        profile = ReviewerProfile.model_validate(fields)
    except ValidationError as e:
        raise _refused(e) from None
    stored = _with_store(lambda store: people.set_reviewer_profile(store, person_id, profile))
    emit(stored.model_dump(mode="json"), as_json, lambda: _print_profile(stored))


@people_app.command("profile")
def profile(person_id: PersonArg, as_json: JsonOption = False) -> None:
    """A reviewer's profile: organisation, practice areas, capacity, declared conflicts."""
    from app import people

    stored = _with_store(lambda store: people.get_reviewer_profile(store, person_id))
    emit(stored.model_dump(mode="json"), as_json, lambda: _print_profile(stored))
