"""The programme's own, store-wide facts (not one city's): for now, its migration mode.

Migration mode lets an operator's import be recorded without a committee countersignature, for
bringing a whole programme's past into citycert at once. Switching it on or off is a command like
any other, decided purely here and recorded in the store-wide programme stream (who, when, why);
the application layer reads that stream and puts the mode into each ProposeImport it signs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain.commands import Command
from domain.errors import CommandRejected
from domain.events import DomainEvent, MigrationModeOn
from domain.ids import Text


class MigrationModeSwitchedOn(DomainEvent):
    switched_by: str
    switched_at: AwareDatetime
    reason: str


class MigrationModeSwitchedOff(DomainEvent):
    switched_by: str
    switched_at: AwareDatetime
    reason: str


PROGRAMME_EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.event_type(): cls for cls in (MigrationModeSwitchedOn, MigrationModeSwitchedOff)
}


class SwitchMigrationMode(Command):
    kind: Literal["SwitchMigrationMode"] = "SwitchMigrationMode"
    on: bool
    reason: Text


PROGRAMME_COMMANDS: tuple[type[Command], ...] = (SwitchMigrationMode,)


class ProgrammeState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 0  # events folded: the programme stream's expected version for the next append
    migration_mode: MigrationModeOn | None = None  # None: off


def evolve_programme(state: ProgrammeState, event: DomainEvent) -> ProgrammeState:
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
    state: ProgrammeState, command: SwitchMigrationMode, *, now: datetime, by: str
) -> list[DomainEvent]:
    """The events switching migration mode causes, given by `by` at `now`; CommandRejected when it
    is already as asked."""
    if now.tzinfo is None:
        raise ValueError("decide_programme needs an aware datetime for now")
    mode = state.migration_mode
    if command.on:
        if mode is not None:
            raise CommandRejected(
                f"migration mode is already on, since {mode.since.isoformat()} "
                f"(switched on by {mode.switched_on_by}: {mode.reason})"
            )
        return [MigrationModeSwitchedOn(switched_by=by, switched_at=now, reason=command.reason)]
    if mode is None:
        raise CommandRejected("migration mode is already off")
    return [MigrationModeSwitchedOff(switched_by=by, switched_at=now, reason=command.reason)]
