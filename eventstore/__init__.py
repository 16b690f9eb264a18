"""Event store on PostgreSQL (asyncpg): append-only, idempotent, ordered, tamper-evident, with
projections. See eventstore/store.py for the append path and DESIGN.md for the guarantees."""

from eventstore.envelope import (
    Actor,
    AppendResult,
    Checkpoint,
    Correlation,
    LogPage,
    NewEvent,
    RecordedEvent,
)
from eventstore.errors import (
    ConcurrencyConflict,
    DuplicateEventConflict,
    EmptyBatch,
    EventStoreError,
    InvalidEnvelope,
    InvalidEventPayload,
    InvalidExpectedVersion,
    MigrationError,
    ProjectionError,
    StoreUnavailable,
    UnknownEventType,
    UnreadableEvent,
)
from eventstore.projections import city_id_of, city_stream
from eventstore.rebuild import RebuildReport
from eventstore.registry import EventRegistry, domain_registry
from eventstore.store import EventStore
from eventstore.subscriptions import Subscriber
from eventstore.verify import ProjectionMismatch, StreamProblem, VerifyReport

__all__ = [
    "Actor",
    "AppendResult",
    "Checkpoint",
    "ConcurrencyConflict",
    "Correlation",
    "DuplicateEventConflict",
    "EmptyBatch",
    "EventRegistry",
    "EventStore",
    "EventStoreError",
    "InvalidEnvelope",
    "InvalidEventPayload",
    "InvalidExpectedVersion",
    "LogPage",
    "MigrationError",
    "NewEvent",
    "ProjectionError",
    "ProjectionMismatch",
    "RebuildReport",
    "RecordedEvent",
    "StoreUnavailable",
    "StreamProblem",
    "Subscriber",
    "UnknownEventType",
    "UnreadableEvent",
    "VerifyReport",
    "city_id_of",
    "city_stream",
    "domain_registry",
]
