"""Event store on PostgreSQL (asyncpg): append-only, idempotent, ordered, tamper-evident, with a
projector's tables kept in each append's transaction. See eventstore/store.py for the append path,
eventstore/projector.py for what a read model provides, and readmodel/ for the city programme's."""

from eventstore.anchor import Anchor, AnchorError, AnchorFolder, StreamHead, take_anchor
from eventstore.envelope import (
    Actor,
    AdoptedEvent,
    AppendResult,
    Checkpoint,
    Correlation,
    LogPage,
    NewEvent,
    RecordedEvent,
    StreamPage,
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
from eventstore.verify import ProjectionMismatch, StreamProblem, VerifyReport, verify

__all__ = [
    "Actor",
    "AdoptedEvent",
    "Anchor",
    "AnchorError",
    "AnchorFolder",
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
    "StreamHead",
    "StreamPage",
    "StreamProblem",
    "UnknownEventType",
    "UnreadableEvent",
    "VerifyReport",
    "rebuild",
    "take_anchor",
    "verify",
]
