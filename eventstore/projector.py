"""The Projector protocol: how a read model rides along with the store's appends, rebuilds and verify.

The store knows nothing of a read model's tables or state. It asks its projector to fold the new
events onto the stream's state (the one at the expected version) and passes the arguments the
projector returns to `eventstore_append` after the events' own, so the projection rows commit in
the append's transaction and round trip. `rebuild` and `verify` fold whole streams through the
same projector and compare or replace the rows of its tables.

This module sits below store, rebuild and verify, which all depend on it and not on each other.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from eventstore.registry import EventRegistry

Row = tuple[Any, ...]
State = TypeVar("State")


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    """An event's model with the envelope fields a projector may use."""

    event: BaseModel
    version: int
    event_id: UUID
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectionTable:
    """A table a projector owns: rebuild empties and refills it, verify compares it with a fold."""

    name: str
    columns: tuple[str, ...]  # in table column order
    key_length: int  # the first key_length columns identify a row
    json_columns: frozenset[str] = frozenset()  # compared as parsed JSON (the text may differ)
    # A JSON column's value as the projector reads it, for comparing: e.g. through its model, so
    # that a value stored in an older shape (fields added since, defaults written out) is not
    # reported as a difference while a changed value still is.
    canonical: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    # Rows kept at some versions of a stream only (states snapshotted every so often): the key is
    # (the stream's key, a version). verify checks each stored row against the fold at its version
    # (stream_rows is given the versions stored) and does not miss the versions never stored, so a
    # store upgraded without them is right; rebuild writes the ones the projector says are due.
    sampled: bool = False


class Projector(Protocol[State]):
    """Folds the streams whose id starts with `stream_prefix` into the rows of `tables`.

    `State` is whatever the projector keeps per stream to fold the next events onto; the store
    caches it by (stream, version), which is safe because it is a pure function of the log."""

    @property
    def stream_prefix(self) -> str: ...

    @property
    def tables(self) -> Sequence[ProjectionTable]: ...

    def initial(self, stream_id: str) -> State:
        """The state of a stream without events."""
        ...

    def fold(self, state: State, events: Sequence[ParsedEvent]) -> State:
        """`state` with `events` folded onto it (no rows)."""
        ...

    async def stored_state(
        self, conn: asyncpg.Connection, stream_id: str, version: int
    ) -> tuple[int, State] | None:
        """The latest state the projection tables hold for the stream at or below `version`, with
        the version it is folded to (the store folds the events after it); None: fold the stream."""
        ...

    def append_arguments(
        self, stream_id: str, before: State, events: Sequence[ParsedEvent]
    ) -> tuple[State, Sequence[Any]]:
        """The state after `events`, and the arguments `eventstore_append` takes after the events'
        own that write the rows (and notifications) those events cause."""
        ...

    def stream_rows(
        self,
        stream_id: str,
        events: Sequence[ParsedEvent],
        recorded_at: datetime,
        sampled: Mapping[str, Mapping[Any, Collection[int]]] | None = None,
    ) -> Mapping[str, list[Row]]:
        """Every row, by table name, of a stream folded from its first event; `recorded_at` is
        the recording time of its last event. For a `sampled` table, the rows due by the
        projector's own rule, or (verify) those at the versions `sampled[table][stream key]`."""
        ...


class StoreAccess(Protocol):
    """What rebuild and verify need of a store (an EventStore is one)."""

    registry: EventRegistry

    def connection(self) -> AbstractAsyncContextManager[asyncpg.Connection]: ...
