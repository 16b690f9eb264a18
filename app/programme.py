"""The programme stream: store-wide facts (migration mode, rounds), read and recorded by the application
layer, and the stamp it puts on the import commands it signs.

No workflow owns this stream: its commands are rare, an operator's, and touch no city, so the
application layer decides them (domain.programme) and appends with the stream's version as the
expected one (a concurrent switch is decided again on the new state). A city's workflow never
reads the database: the command service puts the migration mode it read here into each
ProposeImport, and signs the command (workflows/contracts.py), so the workflow can trust it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from app import errors
from domain import Actor, CommandRejected
from domain import commands as cmd
from domain.errors import InvalidCommand, Label, Quoted, Refusal
from domain.events import DomainEvent, MigrationModeOn
from domain.programme import (
    ProgrammeCommand,
    ProgrammeState,
    SwitchMigrationMode,
    decide_programme,
    fold_programme,
)
from domain.rounds import find_round
from eventstore import Actor as StoredActor
from eventstore import ConcurrencyConflict, EventStore, NewEvent, RecordedEvent

PROGRAMME_STREAM = "programme"
_ATTEMPTS = 3  # a command decided again after a concurrent one


@dataclass(frozen=True, slots=True)
class ProgrammeStatus:
    """The programme's state, and every switch of its migration mode as recorded (oldest first)."""

    state: ProgrammeState
    events: list[RecordedEvent]

    @property
    def migration_mode(self) -> MigrationModeOn | None:
        return self.state.migration_mode


async def load_programme(store: EventStore) -> ProgrammeStatus:
    events = await store.read_stream(PROGRAMME_STREAM)
    state = fold_programme([cast(DomainEvent, store.to_domain(e)) for e in events])
    return ProgrammeStatus(state, events)


async def switch_migration_mode(
    store: EventStore, command: SwitchMigrationMode, actor: Actor, *, now: datetime | None = None
) -> ProgrammeStatus:
    """Switch migration mode on or off for the whole store, recorded with who, when and why."""
    return await record_programme(
        store,
        command,
        actor,
        now=now,
        busy=Refusal("the programme's migration mode is being switched; try again"),
    )


async def record_programme(
    store: EventStore,
    command: ProgrammeCommand,
    actor: Actor,
    *,
    now: datetime | None,
    busy: Refusal,
    rounds_may_overlap: bool = False,
) -> ProgrammeStatus:
    """Decide `command` on the programme's folded state and append its events with the stream's
    version as the expected one; a concurrent append is decided again on the new state (`busy` is
    the answer when that keeps happening). The domain's refusals come back as app errors: 409
    (CommandRejected), 422 (InvalidCommand)."""
    for attempt in range(_ATTEMPTS):
        status = await load_programme(store)
        at = now or datetime.now(UTC)
        try:
            events = decide_programme(
                status.state, command, now=at, by=actor.id, rounds_may_overlap=rounds_may_overlap
            )
        except CommandRejected as e:
            raise errors.Refused(str(e), refusal=e.refusal) from e
        except InvalidCommand as e:
            raise errors.Invalid(str(e), refusal=e.refusal) from e
        new = [
            NewEvent.from_domain(
                e, event_id=uuid.uuid4(), occurred_at=at, actor=StoredActor(role=actor.role, id=actor.id)
            )
            for e in events
        ]
        try:
            await store.append(PROGRAMME_STREAM, status.state.version, new)
        except ConcurrencyConflict:
            if attempt == _ATTEMPTS - 1:
                raise errors.Busy(busy) from None
            continue
        return await load_programme(store)
    raise AssertionError("unreachable: the last attempt returns or raises")


async def stamped(store: EventStore, command: cmd.HumanCommand, actor: Actor) -> cmd.HumanCommand:
    """The command as the application layer signs it: a command that names who gives it (an
    import's proposer, countersigner or rejecter; who reopens an item, corrects a profile, imports
    history; a waiver's approver; who extends a deadline; who suspends, reinstates or revokes a
    certification, or brings a withdrawn city back) names its actor, whatever the entry point
    put there, a proposal carries the store's migration mode as the programme stream says now, and an
    application the round it names as the programme's records hold it (None: no such round), so the
    workflow can check the round is open without reading the database."""
    match command:
        case cmd.ApplyForCertification():
            return with_fields(
                command, round=application_round((await load_programme(store)).state, command.cohort)
            )
        case cmd.ProposeImport():
            mode = (await load_programme(store)).migration_mode
            return with_fields(command, proposed_by=actor.id, migration_mode=mode)
        case cmd.CountersignImport():
            return with_fields(command, countersigned_by=actor.id)
        case cmd.RejectImport():
            return with_fields(command, rejected_by=actor.id)
        case cmd.ReopenReviewItem():
            return with_fields(command, reopened_by=actor.id)
        case cmd.CorrectCityProfile():
            return with_fields(command, corrected_by=actor.id)
        case cmd.ImportPastCertification():
            return with_fields(command, imported_by=actor.id)
        case cmd.WaiveSiteVisit():
            return with_fields(command, approved_by=actor.id)
        case cmd.ExtendDeadline():
            return with_fields(command, extended_by=actor.id)
        case cmd.SuspendCertification():
            return with_fields(command, suspended_by=actor.id)
        case cmd.ReinstateCertification():
            return with_fields(command, reinstated_by=actor.id)
        case cmd.RevokeCertification():
            return with_fields(command, revoked_by=actor.id)
        case cmd.RejoinProgramme():
            return with_fields(command, rejoined_by=actor.id)
    return command


def application_round(state: ProgrammeState, round_id: str) -> cmd.ApplicationRound | None:
    """The round `round_id` as an application carries it; None when the programme has no such round."""
    found = find_round(state.rounds, round_id)
    if found is None:
        return None
    return cmd.ApplicationRound(round_id=found.round_id, opens_on=found.opens_on, closes_on=found.closes_on)


def with_fields(command: cmd.HumanCommand, **fields: object) -> cmd.HumanCommand:
    """The command with fields the application layer fills (the actor's id), whatever the caller put there."""
    # Validated again (not model_copy): an actor id must be a bounded name like any other.
    try:
        return type(command).model_validate({**command.model_dump(), **fields})
    except ValueError as e:
        # pydantic's words are English: the API says them as they are, a page what they mean.
        gist = Refusal("a value the programme fills in for it is not valid")
        raise errors.Invalid(
            Refusal(
                "cannot give {command} as this actor: {why}",
                command=Label("Command", command.command_name()),
                why=Quoted(str(e), gist),
            )
        ) from e
