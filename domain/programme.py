"""The programme's own, store-wide facts (not one city's): its migration mode and its rounds.

Migration mode lets an operator's import be recorded without a committee countersignature, for
bringing a whole programme's past into citycert at once. Switching it on or off is a command like
any other, decided purely here and recorded in the store-wide programme stream (who, when, why);
the application layer reads that stream and puts the mode into each ProposeImport it signs.
Rounds (domain/rounds.py) are recorded in the same stream: `decide_programme` dispatches on the
command, `evolve_programme` on the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.commands import Command
from domain.errors import CommandRejected
from domain.events import DomainEvent, MigrationModeOn
from domain.ids import Text
from domain.rounds import ROUND_COMMANDS, ROUND_EVENTS, Round, RoundCommand, decide_round, evolve_rounds


class MigrationModeSwitchedOn(DomainEvent):
    switched_by: str
    switched_at: AwareDatetime
    reason: str


class MigrationModeSwitchedOff(DomainEvent):
    switched_by: str
    switched_at: AwareDatetime
    reason: str


_MIGRATION_EVENTS: tuple[type[DomainEvent], ...] = (MigrationModeSwitchedOn, MigrationModeSwitchedOff)
PROGRAMME_EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.event_type(): cls for cls in (*_MIGRATION_EVENTS, *ROUND_EVENTS)
}


class SwitchMigrationMode(Command):
    kind: Literal["SwitchMigrationMode"] = "SwitchMigrationMode"
    on: bool
    reason: Text


PROGRAMME_COMMANDS: tuple[type[Command], ...] = (SwitchMigrationMode, *ROUND_COMMANDS)
ProgrammeCommand = SwitchMigrationMode | RoundCommand


class ProgrammeState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 0  # events folded: the programme stream's expected version for the next append
    migration_mode: MigrationModeOn | None = None  # None: off
    rounds: tuple[Round, ...] = ()  # in the order they were created


def evolve_programme(state: ProgrammeState, event: DomainEvent) -> ProgrammeState:
    if isinstance(event, ROUND_EVENTS):
        rounds = evolve_rounds(state.rounds, event)
        return state.model_copy(update={"version": state.version + 1, "rounds": rounds})
    match event:
        case MigrationModeSwitchedOn():
            mode: MigrationModeOn | None = MigrationModeOn(
                since=event.switched_at, switched_on_by=event.switched_by, reason=event.reason
            )
        case MigrationModeSwitchedOff():
            mode = None
        case _:
            raise TypeError(f"evolve_programme does not know event {type(event).__name__}")
    return state.model_copy(update={"version": state.version + 1, "migration_mode": mode})


def fold_programme(events: list[DomainEvent]) -> ProgrammeState:
    state = ProgrammeState()
    for event in events:
        state = evolve_programme(state, event)
    return state


def decide_programme(
    state: ProgrammeState,
    command: ProgrammeCommand,
    *,
    now: datetime,
    by: str,
    rounds_may_overlap: bool = False,
) -> list[DomainEvent]:
    """The events `command` causes, given by `by` at `now`: a switch of migration mode
    (CommandRejected when it is already as asked) or a round's (domain.rounds.decide_round)."""
    if now.tzinfo is None:
        raise ValueError("decide_programme needs an aware datetime for now")
    if not isinstance(command, SwitchMigrationMode):
        return decide_round(state.rounds, command, now=now, by=by, may_overlap=rounds_may_overlap)
    mode = state.migration_mode
    if command.on:
        if mode is not None:
            raise CommandRejected(
                "migration mode is already on, since {since} (switched on by {switched_by}: {because})",
                since=mode.since,
                switched_by=mode.switched_on_by,
                because=mode.reason,
            )
        return [MigrationModeSwitchedOn(switched_by=by, switched_at=now, reason=command.reason)]
    if mode is None:
        raise CommandRejected("migration mode is already off")
    return [MigrationModeSwitchedOff(switched_by=by, switched_at=now, reason=command.reason)]
