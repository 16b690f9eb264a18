"""Typed errors of the event store.

Every error the store raises is an `EventStoreError`; asyncpg errors are converted at the boundary
(`raise ... from e`) so callers never depend on the driver. Errors about bad input are raised before
the database is touched, so a refused append leaves the store unchanged.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


class EventStoreError(Exception):
    """Base of every error the event store raises."""


class ConcurrencyConflict(EventStoreError):
    """The stream moved on since the caller read it: fold the new events and decide again."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        super().__init__(f"stream {stream_id!r} is at version {actual}, not the expected {expected}")


class DuplicateEventConflict(EventStoreError):
    """An event id the store already holds, sent with different content (or to another stream)."""

    def __init__(self, event_id: UUID, reason: str) -> None:
        self.event_id = event_id
        self.reason = reason
        super().__init__(f"event {event_id} was already recorded: {reason}")


class UnknownEventType(EventStoreError):
    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"unknown event type {event_type!r}")


class InvalidEventPayload(EventStoreError):
    """The data does not satisfy the event's model (or is not representable as JSON)."""

    def __init__(self, event_type: str, problems: list[str]) -> None:
        self.event_type = event_type
        self.problems = problems
        super().__init__(f"invalid {event_type} payload: {'; '.join(problems)}")


class InvalidEnvelope(EventStoreError):
    """An envelope field the store cannot accept (naive time, repeated id, empty stream id...)."""


class InvalidExpectedVersion(EventStoreError):
    def __init__(self, expected: Any) -> None:
        self.expected = expected
        super().__init__(f"expected_version must be an integer >= 0, got {expected!r}")


class EmptyBatch(EventStoreError):
    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        super().__init__(f"append to {stream_id!r} needs at least one event")


class UnreadableEvent(EventStoreError):
    """A stored event that no longer parses (unknown type, or an upcaster is missing)."""


class ProjectionError(EventStoreError):
    """Events that the projection fold could not apply; the append is rolled back."""


class MigrationError(EventStoreError):
    """A migration failed, or a shipped migration was edited after it was applied."""


class StoreUnavailable(EventStoreError):
    """The database could not be reached or refused the connection."""
