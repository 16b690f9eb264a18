"""Rounds and the committee's Honor Roll: decided by domain.rounds on the programme stream's folded
state and recorded there with who and when, as migration-mode switches are (app.programme).

Every entry point (the API, the CLI) calls these functions; each checks the actor's role against
domain.authority first, so a route that forgot its check still cannot create a round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from app import errors
from app.programme import load_programme, record_programme
from app.round_report import RoundReport, load_round_report
from domain import Actor
from domain.authority import roles_that_may_give
from domain.errors import CommandRejected, Label, Refusal
from domain.events import DomainEvent
from domain.policy import ProgrammePolicy
from domain.rounds import (
    AdoptCohorts,
    ChangeRound,
    CreateRound,
    DesignateHonorRoll,
    RecordedCohort,
    Round,
    RoundChanged,
    RoundCommand,
    RoundStanding,
    adoption_plan,
    find_round,
    is_round_id,
    refuse_off_the_honor_roll,
)
from eventstore import EventStore
from readmodel import city_summary, recorded_cohorts


class UnknownRound(errors.NotFound):
    code = "unknown_round"

    def __init__(self, round_id: str) -> None:
        super().__init__(Refusal("there is no round {round_id!r}", round_id=round_id))
        self.round_id = round_id


@dataclass(frozen=True, slots=True)
class RoundChange:
    """One recorded change of a round: who, when, and the fields it changed to."""

    changed_by: str
    changed_at: datetime
    changes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RoundRecord:
    round: Round
    changes: list[RoundChange]


async def list_rounds(store: EventStore) -> list[Round]:
    """Every round, the latest announcement first."""
    rounds = (await load_programme(store)).state.rounds
    return sorted(rounds, key=lambda r: (r.announcement_on, r.round_id), reverse=True)


async def all_rounds(store: EventStore) -> tuple[Round, ...]:
    """Every round in the order it was created (for domain.rounds' helpers)."""
    return (await load_programme(store)).state.rounds


async def find(store: EventStore, round_id: str) -> Round:
    """The round of that id; UnknownRound (404) otherwise, also for an id no round could have."""
    found = find_round(await all_rounds(store), round_id) if is_round_id(round_id) else None
    if found is None:
        raise UnknownRound(round_id)
    return found


async def show_round(store: EventStore, round_id: str) -> RoundRecord:
    """The round and every recorded change of it (oldest first)."""
    status = await load_programme(store)
    found = find_round(status.state.rounds, round_id) if is_round_id(round_id) else None
    if found is None:
        raise UnknownRound(round_id)
    changes = []
    for recorded in status.events:
        event = cast(DomainEvent, store.to_domain(recorded))
        if isinstance(event, RoundChanged) and event.round_id == round_id:
            fields = event.model_dump(mode="json", exclude={"round_id", "changed_by", "changed_at"})
            changes.append(
                RoundChange(
                    changed_by=event.changed_by,
                    changed_at=event.changed_at,
                    changes={k: v for k, v in fields.items() if v is not None},
                )
            )
    return RoundRecord(found, changes)


async def create_round(
    store: EventStore,
    command: CreateRound,
    actor: Actor,
    *,
    now: datetime | None = None,
    may_overlap: bool = False,
) -> Round:
    """Create a round (an operator's): its dates in order, its id new, its application window
    clear of every other round's (unless the programme lets rounds overlap)."""
    return await _record(store, command, actor, now, may_overlap)


async def change_round(
    store: EventStore,
    command: ChangeRound,
    actor: Actor,
    *,
    now: datetime | None = None,
    may_overlap: bool = False,
) -> Round:
    """Change a round's name, dates or capacity (an operator's) until its announcement date."""
    await find(store, command.round_id)
    return await _record(store, command, actor, now, may_overlap)


async def designate_honor_roll(
    store: EventStore, command: DesignateHonorRoll, actor: Actor, *, now: datetime | None = None
) -> Round:
    """Name the round's Honor Roll (the committee's), replacing an earlier designation, until the
    announcement date. Every city named must be registered (Invalid, 422, otherwise) and found not
    certified in the round (Refused, 409, naming the others and why: domain.rounds
    refuse_off_the_honor_roll)."""
    _may_give(command, actor)
    await find(store, command.round_id)
    unknown = [c for c in command.city_ids if await city_summary(store, c) is None]
    if unknown:
        raise errors.Invalid(
            Refusal(
                "no city is registered as {city_ids}: the Honor Roll names registered cities",
                city_ids=unknown,
            )
        )
    if command.city_ids:
        standings = await round_standings(store, command.round_id, now or datetime.now(UTC))
        try:
            refuse_off_the_honor_roll(command.round_id, command.city_ids, standings)
        except CommandRejected as e:
            raise errors.Refused(str(e), refusal=e.refusal) from e
    return await _record(store, command, actor, now)


async def round_standings(store: EventStore, round_id: str, now: datetime) -> dict[str, RoundStanding]:
    """Where each city that applied in the round stands in it, by its latest cycle there (the
    round report's reading of the cities' logs)."""
    report = await load_round_report(store, round_id, policy=ProgrammePolicy(), now=now)
    return standings_of(report)


def standings_of(report: RoundReport) -> dict[str, RoundStanding]:
    """Where each city of a round report stands in its round, as the Honor Roll's rule reads it
    (the committee's Honor Roll page lists the cities it may name by the same reading)."""
    return {row.city_id: _standing(row.outcome, row.committee_decision) for row in report.cities}


def _standing(outcome: str, decision: str | None) -> RoundStanding:
    if outcome in ("not_certified", "withdrawn"):
        return cast(RoundStanding, outcome)
    if outcome != "in_progress":
        return "certified"  # awarded: new, elevated, sustained or downgraded
    # Decided, its appeal window still open: the committee's decision is where it stands.
    if decision is None:
        return "undecided"
    return "not_certified" if decision == "not_certified" else "certified"


def _may_give(command: RoundCommand, actor: Actor) -> None:
    roles = roles_that_may_give(type(command))
    if actor.role not in roles:
        raise errors.Forbidden(
            Refusal(
                "a {role} may not give {command}; it needs the role {roles:or}",
                role=Label("Role", actor.role),
                command=Label("Command", command.command_name()),
                roles=[Label("Role", r) for r in sorted(roles)],
            )
        )


async def _record(
    store: EventStore, command: RoundCommand, actor: Actor, now: datetime | None, may_overlap: bool = False
) -> Round:
    _may_give(command, actor)
    busy = Refusal("the programme's rounds are being changed; try again")
    status = await record_programme(store, command, actor, now=now, busy=busy, rounds_may_overlap=may_overlap)
    found = find_round(status.state.rounds, command.round_id)
    assert found is not None, "a recorded round command leaves its round in the state"
    return found


@dataclass(frozen=True, slots=True)
class Adoption:
    """What bringing earlier data's cohorts into rounds did (or, as a dry run, would do)."""

    recorded: list[CreateRound | AdoptCohorts]
    unnamed: list[str]  # cohorts no round id can be made of: left as they are


async def adopt_recorded_cohorts(
    store: EventStore, actor: Actor, *, now: datetime | None = None, dry_run: bool = False
) -> Adoption:
    """Make every cohort the store recorded that no round covers a round's (domain.rounds
    adoption_plan): a round created from the data's dates where none has its id, and the cohorts
    spelled otherwise ("2026-Spring") adopted by it. Rounds of earlier data may overlap one
    another: they record what happened. Running it again finds nothing more to do."""
    found = [
        RecordedCohort(
            cohort=cohort,
            first_applied=first.date(),
            last_applied=last.date(),
            last_decided=decided.date() if decided else None,
        )
        for cohort, first, last, decided in await recorded_cohorts(store)
    ]
    plan, unnamed = adoption_plan(await all_rounds(store), found)
    if not dry_run:
        for command in plan:
            await _record(store, command, actor, now, may_overlap=True)
    return Adoption(plan, unnamed)


async def embargoed_cohorts(store: EventStore, today: date) -> frozenset[str]:
    """What the cycles of rounds not yet announced on `today` record as their cohort (each round's
    id and the cohorts it adopted): the public's data leaves their certifications out until then."""
    return frozenset(
        name for r in await all_rounds(store) if not r.announced(today) for name in r.recorded_as
    )


async def recorded_as(store: EventStore, round_id: str) -> tuple[str, ...]:
    """What the cycles of the round of this id record as their cohort: its id, then the cohorts
    of earlier data it adopted (what a filter of cities by round matches); the name alone when no
    round has that id (a cohort no round adopted is matched as it was recorded)."""
    found = find_round(await all_rounds(store), round_id) if is_round_id(round_id) else None
    return found.recorded_as if found is not None else (round_id,)
