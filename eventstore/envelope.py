"""Envelopes: what the store records around a domain event's data.

Named tuples and frozen dataclasses rather than pydantic models: reads build one per row, and the
global-log reader has to stay cheap (a hundred thousand events per second).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, NamedTuple, Protocol
from uuid import UUID


class Actor(NamedTuple):
    """Who caused the event: a role ("city", "reviewer", "committee", "system") and an id."""

    role: str
    id: str


class Correlation(NamedTuple):
    """The Temporal workflow run that recorded the event."""

    workflow_id: str
    run_id: str


class _DomainEventLike(Protocol):
    schema_version: ClassVar[int]

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. `event_id` comes from the workflow (deterministic across retries), which
    is what makes appends idempotent; `schema_version` None means the type's current version."""

    event_id: UUID
    type: str
    data: Mapping[str, Any]
    occurred_at: datetime
    actor: Actor
    correlation: Correlation | None = None
    schema_version: int | None = None

    @classmethod
    def from_domain(
        cls,
        event: _DomainEventLike,
        *,
        event_id: UUID,
        occurred_at: datetime,
        actor: Actor,
        correlation: Correlation | None = None,
    ) -> NewEvent:
        """Wrap a domain event: its type is the class name, its data the JSON-mode dump."""
        return cls(
            event_id=event_id,
            type=type(event).__name__,
            data=event.model_dump(mode="json"),
            occurred_at=occurred_at,
            actor=actor,
            correlation=correlation,
            schema_version=type(event).schema_version,
        )


@dataclass(frozen=True, slots=True, order=True)
class Checkpoint:
    """A place in the global log: (writing transaction id, position).

    The log is ordered by the transaction that wrote each event, then by position. Position alone
    (an identity column) is handed out before commit, so a transaction can take a lower position
    yet commit later than one with a higher position; a reader paging by bare position would skip
    it. Every transaction not yet finished has an id >= pg_snapshot_xmin, so a reader that returns
    only rows below that horizon, in (transaction, position) order, never sees a late row appear
    behind its checkpoint.
    """

    transaction_id: int = 0
    position: int = 0

    START: ClassVar[Checkpoint]


Checkpoint.START = Checkpoint(0, 0)


class RecordedEvent(NamedTuple):
    """An event as stored, with `data` upcast to the current schema version of its type.

    A named tuple rather than a frozen dataclass: the global-log reader builds one per row, and a
    frozen dataclass's __init__ costs several times more."""

    event_id: UUID
    stream_id: str
    version: int
    position: int
    transaction_id: int
    type: str
    schema_version: int
    data: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    correlation: Correlation | None
    hash: bytes

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.transaction_id, self.position)


@dataclass(frozen=True, slots=True)
class AdoptedEvent:
    """An event as the store recorded it, returned to a retry that decided it at another moment."""

    type: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where an append's events landed. `replayed` is True when every id was already recorded
    (an activity retry): nothing was written and these are the original versions and positions.
    `adopted` holds the recorded events when the retry's own differed only in when they were
    decided (append's `adopt_redecided`); empty otherwise."""

    stream_id: str
    versions: tuple[int, ...]
    positions: tuple[int, ...]
    replayed: bool = False
    adopted: tuple[AdoptedEvent, ...] = ()

    @property
    def version(self) -> int:
        """The stream's version after this append: the next append's expected_version."""
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class LogPage:
    """One page of the global log and the checkpoint to read the next page after."""

    events: list[RecordedEvent]
    checkpoint: Checkpoint


@dataclass(frozen=True, slots=True)
class StreamPage:
    """One page of a stream, in version order, and the version to read the next page after (None
    when the page reached the end of the stream as it was read)."""

    events: list[RecordedEvent]
    next_after: int | None
