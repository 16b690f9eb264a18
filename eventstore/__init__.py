"""Event store on PostgreSQL (asyncpg): append-only, idempotent, ordered, tamper-evident, with a
projector's tables kept in each append's transaction. See eventstore/store.py for the append path,
eventstore/projector.py for what a read model provides, and readmodel/ for the city programme's."""

from typing import Any

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
from eventstore.projector import ParsedEvent, ProjectionTable, Projector, Row, StoreAccess
from eventstore.rebuild import RebuildReport, rebuild
from eventstore.registry import EventRegistry
from eventstore.store import EventStore
from eventstore.transition import city_programme_module
from eventstore.verify import ProjectionMismatch, StreamProblem, VerifyReport, verify

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
    "ParsedEvent",
    "ProjectionError",
    "ProjectionMismatch",
    "ProjectionTable",
    "Projector",
    "RebuildReport",
    "RecordedEvent",
    "Row",
    "StoreAccess",
    "StoreUnavailable",
    "StreamProblem",
    "UnknownEventType",
    "UnreadableEvent",
    "VerifyReport",
    "rebuild",
    "verify",
]

# Transitional (eventstore/transition.py): city_stream and city_id_of moved to readmodel.
_MOVED = ("city_stream", "city_id_of")


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(city_programme_module(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
