"""The event store: append and read, on PostgreSQL through asyncpg, with a projector's tables kept
in each append's transaction.

An append is one round trip: a call of `eventstore_append` (migration 0018), a single statement and
so its own transaction. Before it, in Python: the events are checked against their models, each
event's canonical body for the hash chain is computed, and, for a stream the projector folds, the
projector folds the new events onto the stream's state at the expected version (kept in a small
cache, else read back from the projection tables) and returns the arguments that write its rows.
The function takes the stream lock, checks the expected version, finishes the hash chain with the
database time, and writes the events and the projector's rows.

Idempotency costs nothing on the common path: a retried batch either meets a stream that moved on
(a version conflict) or, at the same version, the unique event_id constraint; only then are the ids
looked up, and the same batch again returns the original result.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import asyncpg
from opentelemetry import trace
from prometheus_client import Counter, Histogram
from pydantic import BaseModel

from eventstore.anchor import Anchor
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
    ProjectionError,
    StoreUnavailable,
    UnknownEventType,
)
from eventstore.hashing import canonical_json, event_body, json_text
from eventstore.migrations import migrate
from eventstore.projector import ParsedEvent, Projector
from eventstore.rebuild import RebuildReport, rebuild
from eventstore.registry import EventRegistry
from eventstore.rows import EVENT_COLUMNS, parsed_events, recorded_event
from eventstore.verify import VerifyReport, verify

# Seeing the appends (runtime/telemetry.py serves these): how many, how they ended, how long they took.
_APPENDS = Counter(
    "citycert_event_store_appends",
    "Appends by outcome: appended, replayed (a retry of a recorded batch, adopted ones too), conflict, "
    "refused, failed",
    ["outcome"],
)
# Each outcome's child, bound once: labels() takes a lock and builds its key on every call.
_APPENDS_BY_OUTCOME = {
    outcome: _APPENDS.labels(outcome) for outcome in ("appended", "replayed", "conflict", "refused", "failed")
}
_APPENDED_EVENTS = Counter("citycert_event_store_appended_events", "Events appended (replays left out)")
_APPEND_SECONDS = Histogram(
    "citycert_event_store_append_duration_seconds",
    "How long an append took, refusals included",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
_tracer = trace.get_tracer("citycert.eventstore")


def _append_span(stream_id: str, events: Sequence[NewEvent]) -> AbstractContextManager[object]:
    """The append's span while tracing is on; nothing while it is off (no tracer provider was
    ever installed, runtime/telemetry.py): a span that records nothing still cost about 5 % of the
    append's CPU in this process (bench/eventstore.py), its attributes built for nobody."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return nullcontext()
    ids = [str(e.event_id) for e in events]
    attributes = {"citycert.stream_id": stream_id, "citycert.event_ids": ids}
    return _tracer.start_as_current_span("EventStore.append", attributes=attributes)


_EVENT_ARGUMENTS = 3  # eventstore_append's arguments before the projector's (migration 0018)
_READ_STREAM = f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version"
_READ_STREAM_AS_OF = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND recorded_at <= $2 ORDER BY version"
)
MAX_STREAM_PAGE = 10_000  # the most events one read_stream_page returns
# One page of a stream: the (stream_id, version) unique index yields the rows in version order from
# just after the cursor, and the LIMIT stops the scan there, so a page costs the same however long
# the stream is. The reader asks one row more than the page to know whether another page follows.
# recorded_at rises within a stream, so the as-of filter keeps a prefix and paging stays exact.
_READ_STREAM_PAGE = f"""
    SELECT {EVENT_COLUMNS} FROM events
     WHERE stream_id = $1 AND version > $2 AND ($3::timestamptz IS NULL OR recorded_at <= $3)
     ORDER BY version
     LIMIT $4
"""
# The events after a stream's snapshot, a page at a time, up to a version when given.
_READ_TAIL = f"""
    SELECT {EVENT_COLUMNS} FROM events
     WHERE stream_id = $1 AND version > $2 AND ($3::bigint IS NULL OR version <= $3)
     ORDER BY version
     LIMIT $4
"""
_STREAM_VERSION = "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1"
_FOLD_PAGE = 1000  # events read and folded at a time after a snapshot
_FOLD_ON_LOOP = 100  # folded on the event loop up to this many; more go to a worker thread
# Only rows of transactions below the oldest one still running: those are final, and every row
# still to come belongs to a transaction at or above that horizon, hence after our checkpoint.
_READ_ALL = f"""
    SELECT {EVENT_COLUMNS} FROM events
     WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
       AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY transaction_id, position
     LIMIT $3
"""


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class _Pending:
    """A checked new event: its parsed model and normalised data."""

    __slots__ = ("canonical", "data", "data_text", "event", "model", "schema_version")

    def __init__(self, event: NewEvent, model: BaseModel, data: dict[str, Any], schema_version: int) -> None:
        self.event = event
        self.model = model
        self.data = data
        self.schema_version = schema_version
        try:
            self.data_text = json_text(data)  # what the store writes
        except ValueError as e:
            raise InvalidEventPayload(event.type, [str(e)]) from e
        if "\\u0000" in self.data_text and _has_nul(data):  # JSONB cannot store NUL in text
            raise InvalidEventPayload(event.type, ["text must not contain NUL characters"])
        self.canonical = canonical_json(data, self.data_text)  # what the hash covers

    def body(self, stream_id: str, version: int) -> bytes:
        e, corr = self.event, self.event.correlation
        return event_body(
            event_id=e.event_id,
            stream_id=stream_id,
            version=version,
            type=e.type,
            schema_version=self.schema_version,
            occurred_at=e.occurred_at,
            actor_role=e.actor.role,
            actor_id=e.actor.id,
            workflow_id=corr.workflow_id if corr else None,
            run_id=corr.run_id if corr else None,
            data_json=self.canonical,
        )

    def row(self, body: bytes) -> tuple[Any, ...]:
        """The event as eventstore_append takes it: a new_event value (migration 0018), in its
        fields' order, with the canonical body the hash chain covers."""
        e, corr = self.event, self.event.correlation
        return (
            e.event_id,
            e.type,
            self.schema_version,
            e.occurred_at,
            e.actor.role,
            e.actor.id,
            corr.workflow_id if corr else None,
            corr.run_id if corr else None,
            self.data_text,
            body,
        )

    def differs_from(self, row: asyncpg.Record) -> str | None:
        """Why a stored row differs from this event, or None when it is the same event."""
        names = self.differences(row)
        return f"its {names[0]} differs" if names else None

    def differences(self, row: asyncpg.Record) -> list[str]:
        """The fields in which a stored row differs from this event (none: the same event)."""
        e = self.event
        stored_corr = (
            Correlation(row["workflow_id"], row["run_id"] or "") if row["workflow_id"] is not None else None
        )
        checks = [
            ("type", e.type, row["type"]),
            ("schema version", self.schema_version, row["schema_version"]),
            ("occurred_at", e.occurred_at, row["occurred_at"]),
            ("actor", e.actor, Actor(row["actor_role"], row["actor_id"])),
            ("correlation", e.correlation, stored_corr),
            ("data", self.canonical, canonical_json(json.loads(row["data"]))),
        ]
        return [name for name, new, old in checks if new != old]


# What may differ between an event and its recorded twin when the same decision was taken again
# later (`append`'s adopt_redecided): when it was decided, and what was computed from that moment.
_REDECIDED = frozenset({"occurred_at", "data"})

# The server going away or coming back: the caller may try again (an activity retries, the API
# answers 503). "Shutting down" / "starting up" arrive as PostgresErrors, not connection errors.
_UNAVAILABLE = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Pool release hook. The store leaves no session state behind (the migration lock is
    released), so the default reset query would only cost a round trip."""


class EventStore:
    """The store of one PostgreSQL database: events checked against `registry`, and the tables of
    `projector` (if any) kept in each append's transaction.

    Build one with `EventStore.connect(dsn, registry=..., projector=...)` (a registry and no
    projector: events only); the city programme's is `readmodel.open_city_store(dsn)`."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        registry: EventRegistry,
        projector: Projector[Any] | None = None,
        state_cache_size: int = 10_000,
    ) -> None:
        self.pool = pool
        self.registry = registry
        self.projector = projector
        # Folded states by stream, with their version. The state at (stream, version) is a pure
        # function of the immutable log, so a cached copy is right whenever its version is the one
        # we append after.
        self._states: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._state_cache_size = state_cache_size
        self._append_statements: dict[int, str] = {}
        # Called after each append that wrote events, in this process: the portal moves its kept
        # parts at once for what its own people recorded outside a command (a round, an Honor Roll,
        # a person), as it does for their commands (entrypoints/web/fragments.py `moved`).
        self.on_appended: list[Callable[[], None]] = []
        # Connections kept between uses (_take, _give): only of an asyncpg pool (tests hand the
        # store objects with an acquire() alone, which are used as they are).
        self._parked: list[Any] = []
        self._park_size = max(pool.get_max_size() - 1, 0) if isinstance(pool, asyncpg.Pool) else 0
        self._waiting = 0  # uses of ours waiting for the pool
        self._closing = False

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        registry: EventRegistry,
        projector: Projector[Any] | None = None,
        min_size: int = 1,
        max_size: int = 10,
    ) -> EventStore:
        """A store on a new connection pool."""
        try:
            pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_no_reset)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise StoreUnavailable(f"cannot connect to the event store database: {e}") from e
        return cls(pool, registry=registry, projector=projector)

    async def close(self) -> None:
        self._closing = True
        parked, self._parked = self._parked, []
        for conn in parked:  # the pool closes only the connections given back to it
            await self.pool.release(conn)
        await self.pool.close()

    async def __aenter__(self) -> EventStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def connection(self) -> _Lease:
        """A pooled connection, with driver errors turned into EventStoreErrors.

        Only for the read model's queries (readmodel/) and the token store (app/tokens.py):
        events are written by `append` alone, and read through the read_* methods."""
        return _Lease(self)

    # A connection is kept by the store between uses (parked) rather than given back to the pool
    # each time: asyncpg's acquire and release cost about 35 us of this process's CPU a use (a
    # release runs in a task of its own under asyncio.shield, re-arms an inactivity timer and
    # checks the listeners), as much as the round trip of a small query, and an append takes one.
    # The pool still makes, limits and mends the connections: a use that failed (or was
    # cancelled) gives its connection back to the pool, which cleans it up; a parked one found
    # closed goes back to it too; one left in a transaction is never parked; and when a use of
    # ours waits for the pool, connections go back to it rather than to the park. At most one
    # fewer than the pool's size is parked, so whoever acquires from `pool` itself always gets one.

    async def _take(self) -> Any:
        parked = self._parked
        while parked:
            conn = parked.pop()
            if _open(conn):
                return conn
            await self.pool.release(conn)  # the pool replaces a closed one (a no-op if it took it back)
        self._waiting += 1
        try:
            return await self.pool.acquire()
        finally:
            self._waiting -= 1

    async def _give(self, conn: Any) -> None:
        """Back after a use that ended well: parked, unless someone waits for the pool, it is
        in a transaction, or the park is full."""
        if (
            self._waiting
            or self._closing
            or len(self._parked) >= self._park_size
            or not _open(conn)
            or conn.is_in_transaction()
        ):
            await self.pool.release(conn)
        else:
            self._parked.append(conn)

    async def ping(self) -> None:
        """Raises StoreUnavailable unless the database answers (the health check)."""
        async with self.connection() as conn:
            await conn.fetchval("SELECT 1")

    async def migrate(self) -> list[int]:
        async with self.connection() as conn:
            return await migrate(conn)

    # --- append ----------------------------------------------------------------------------------

    def _check(self, stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> list[_Pending]:
        if not isinstance(stream_id, str) or not stream_id.strip():
            raise InvalidEnvelope(f"stream_id must be a non-empty string, got {stream_id!r}")
        if (
            isinstance(expected_version, bool)
            or not isinstance(expected_version, int)
            or expected_version < 0
        ):
            raise InvalidExpectedVersion(expected_version)
        if not events:
            raise EmptyBatch(stream_id)
        pending = []
        seen: set[UUID] = set()
        for e in events:
            if not isinstance(e, NewEvent):
                raise InvalidEnvelope(f"append takes NewEvent envelopes, got {type(e).__name__}")
            if not isinstance(e.event_id, UUID):
                raise InvalidEnvelope(f"event_id must be a UUID, got {e.event_id!r}")
            if e.event_id in seen:
                raise InvalidEnvelope(f"event {e.event_id} appears twice in one append")
            seen.add(e.event_id)
            if not isinstance(e.occurred_at, datetime) or e.occurred_at.utcoffset() is None:
                raise InvalidEnvelope(f"occurred_at of {e.event_id} must be a timezone-aware datetime")
            if not (e.actor.role and e.actor.id):
                raise InvalidEnvelope(f"actor of {e.event_id} needs a role and an id")
            current = self.registry.current.get(e.type)
            if current is None:
                raise UnknownEventType(e.type)
            if e.schema_version is not None and e.schema_version != current:
                raise InvalidEventPayload(
                    e.type, [f"new events are written at schema version {current}, not {e.schema_version}"]
                )
            model, data = self.registry.validate(e.type, e.data)
            pending.append(_Pending(e, model, data, current))
        return pending

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        adopt_redecided: bool = False,
    ) -> AppendResult:
        """Append `events` to `stream_id` if it is at `expected_version`, in one transaction.

        Appending ids that are already recorded (with the same content) returns the original
        result without writing; every refusal leaves the store unchanged.

        `adopt_redecided`: ids already recorded whose events differ only in their time and data
        are the same decision taken again at a later moment (a workflow task retried after its
        worker died mid-record re-decides at its own `now`): the recorded events stand, and come
        back in the result's `adopted` for the caller to fold instead of its own.
        """
        started, outcome = time.perf_counter(), "failed"
        with _append_span(stream_id, events):
            try:
                result = await self._append(
                    stream_id, expected_version, events, adopt_redecided=adopt_redecided
                )
                outcome = "replayed" if result.replayed else "appended"
                if not result.replayed:
                    for call in self.on_appended:
                        call()
                return result
            except (ConcurrencyConflict, DuplicateEventConflict):
                outcome = "conflict"
                raise
            except (
                InvalidEventPayload,
                UnknownEventType,
                InvalidEnvelope,
                InvalidExpectedVersion,
                EmptyBatch,
            ):
                outcome = "refused"
                raise
            finally:
                _APPEND_SECONDS.observe(time.perf_counter() - started)
                _APPENDS_BY_OUTCOME[outcome].inc()
                if outcome == "appended":
                    _APPENDED_EVENTS.inc(len(events))

    async def _append(
        self, stream_id: str, expected_version: int, events: Sequence[NewEvent], *, adopt_redecided: bool
    ) -> AppendResult:
        pending = self._check(stream_id, expected_version, events)
        adopt = adopt_redecided
        bodies = [p.body(stream_id, expected_version + i) for i, p in enumerate(pending, start=1)]
        projector = (
            self.projector if self.projector and stream_id.startswith(self.projector.stream_prefix) else None
        )
        after: Any = None
        async with self.connection() as conn:
            projection: Sequence[Any] = ()
            if projector is not None:
                before = await self._state_at(conn, projector, stream_id, expected_version)
                if isinstance(before, _Elsewhere):  # the stream is elsewhere: a retry, or a conflict
                    return await self._replayed_or_conflict(
                        conn, stream_id, expected_version, before.version, pending, adopt
                    )
                parsed = [
                    ParsedEvent(p.model, expected_version + i, p.event.event_id, p.event.occurred_at)
                    for i, p in enumerate(pending, start=1)
                ]
                try:
                    after, projection = projector.append_arguments(stream_id, before, parsed)
                except Exception as e:
                    raise ProjectionError(f"cannot fold {stream_id} v{expected_version + 1}..: {e}") from e
            try:
                row = await conn.fetchrow(
                    self._append_statement(len(projection)),
                    stream_id,
                    expected_version,
                    [p.row(body) for p, body in zip(pending, bodies, strict=True)],
                    *projection,
                )
            except asyncpg.UniqueViolationError as e:
                if e.constraint_name != "events_event_id_key":
                    raise
                replayed = await self._replayed(conn, stream_id, pending, adopt)
                if replayed is None:  # the id was recorded by another append just now
                    raise DuplicateEventConflict(pending[0].event.event_id, "recorded concurrently") from e
                return replayed
            assert row is not None
            if row["outcome"] == "conflict":
                return await self._replayed_or_conflict(
                    conn, stream_id, expected_version, row["actual_version"], pending, adopt
                )
        first = expected_version + 1
        if projector is not None:
            self._remember(stream_id, first + len(pending) - 1, after)
        return AppendResult(stream_id, tuple(range(first, first + len(pending))), tuple(row["positions"]))

    def _append_statement(self, projection_arguments: int) -> str:
        """The call of eventstore_append: the stream, the expected version and the events, then the
        projector's arguments."""
        statement = self._append_statements.get(projection_arguments)
        if statement is None:
            count = _EVENT_ARGUMENTS + projection_arguments
            statement = f"SELECT * FROM eventstore_append({', '.join(f'${i}' for i in range(1, count + 1))})"
            self._append_statements[projection_arguments] = statement
        return statement

    async def _state_at(
        self, conn: asyncpg.Connection, projector: Projector[Any], stream_id: str, version: int
    ) -> Any:
        """The projector's state of the stream at `version`, to fold the new events onto: from the
        cache, else the latest state the projection tables hold at or below `version` (a snapshot)
        with the events after it folded on, else a fold of the stream. When the stream is not at
        `version`, _Elsewhere with its actual version (the append cannot succeed; it may be a retry)."""
        cached = self._states.get(stream_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        if version == 0:
            return projector.initial(stream_id)  # eventstore_append checks it is still empty
        stored = await projector.stored_state(conn, stream_id, version)
        base, state = stored if stored is not None else (0, projector.initial(stream_id))
        folded = await self._folded_up_to(conn, projector, stream_id, base, state, version)
        return folded if isinstance(folded, _Elsewhere) else folded[1]

    async def _folded_up_to(
        self,
        conn: asyncpg.Connection,
        projector: Projector[Any],
        stream_id: str,
        base: int,
        state: Any,
        version: int | None,
    ) -> tuple[int, Any] | _Elsewhere:
        """`state` (the stream's at `base`) with the stream's events after it folded on, up to
        `version` (None: to the stream's end), a page at a time, and the version it is folded to;
        _Elsewhere when the stream does not end at `version`. Long tails are folded in a worker
        thread: a fold is CPU work that would stall the event loop, and every other append and read
        of this process, meanwhile."""
        after = base
        while True:
            upto = None if version is None else version + 1  # one past it: does the stream go on?
            rows = await conn.fetch(_READ_TAIL, stream_id, after, upto, _FOLD_PAGE)
            if version is not None and rows and rows[-1]["version"] > version:
                return _Elsewhere(await self._actual_version(conn, stream_id))
            if rows:
                events = parsed_events(self.registry, rows)
                if len(events) > _FOLD_ON_LOOP:
                    state = await asyncio.to_thread(projector.fold, state, events)
                else:
                    state = projector.fold(state, events)
                after = rows[-1]["version"]
            if len(rows) < _FOLD_PAGE:
                break
        if version is not None and after != version:
            return _Elsewhere(after)
        return after, state

    async def _actual_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        return int(await conn.fetchval(_STREAM_VERSION, stream_id))

    async def projected_state(self, stream_id: str) -> tuple[int, Any] | None:
        """The projector's state of the stream now, with its version: from the cache when it is at
        the stream's version, else the latest snapshot with the events after it folded on (then
        cached: it is a pure function of the log); None for a stream without events or outside
        the projector's."""
        projector = self.projector
        if projector is None or not stream_id.startswith(projector.stream_prefix):
            return None
        async with self.connection() as conn:
            version = await self._actual_version(conn, stream_id)
            if version == 0:
                return None
            cached = self._states.get(stream_id)
            if cached is not None and cached[0] == version:
                return version, cached[1]
            stored = await projector.stored_state(conn, stream_id, version)
            base, state = stored if stored is not None else (0, projector.initial(stream_id))
            # To the stream's end: an append landing meanwhile is folded too, not refused.
            folded = await self._folded_up_to(conn, projector, stream_id, base, state, None)
        assert not isinstance(folded, _Elsewhere)  # never, without a version to be at
        self._remember(stream_id, *folded)
        return folded

    async def _replayed_or_conflict(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        expected: int,
        actual: int,
        pending: list[_Pending],
        adopt: bool = False,
    ) -> AppendResult:
        """The stream is not at the expected version. A retry of an append that already succeeded
        lands here too (the stream moved on by its own events): the ids tell."""
        replayed = await self._replayed(conn, stream_id, pending, adopt)
        if replayed is None:
            raise ConcurrencyConflict(stream_id, expected, actual)
        return replayed

    async def _replayed(
        self, conn: asyncpg.Connection, stream_id: str, pending: list[_Pending], adopt: bool = False
    ) -> AppendResult | None:
        """None when none of the ids is recorded; the original result when exactly this batch was
        recorded before (a retry), with the recorded events when `adopt` and they differ only in
        time and data; else DuplicateEventConflict saying what differs."""
        rows = await conn.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ANY ($1::uuid[])",
            [p.event.event_id for p in pending],
        )
        if not rows:
            return None
        stored = {r["event_id"]: r for r in rows}
        redecided = False
        for p in pending:
            row = stored.get(p.event.event_id)
            if row is None:
                known = next(iter(stored))
                raise DuplicateEventConflict(known, "the batch mixes recorded events with new ones")
            if row["stream_id"] != stream_id:
                raise DuplicateEventConflict(p.event.event_id, f"it belongs to stream {row['stream_id']!r}")
            differences = p.differences(row)
            forbidden = [d for d in differences if not (adopt and d in _REDECIDED)]
            if forbidden:
                raise DuplicateEventConflict(p.event.event_id, f"its {forbidden[0]} differs")
            redecided = redecided or bool(differences)
        ordered = sorted(rows, key=lambda r: r["version"])
        versions = [r["version"] for r in ordered]
        same_order = [r["event_id"] for r in ordered] == [p.event.event_id for p in pending]
        if not same_order or versions != list(range(versions[0], versions[0] + len(versions))):
            raise DuplicateEventConflict(pending[0].event.event_id, "it was recorded in another batch")
        adopted = tuple(AdoptedEvent(r["type"], json.loads(r["data"])) for r in ordered) if redecided else ()
        positions = tuple(r["position"] for r in ordered)
        return AppendResult(stream_id, tuple(versions), positions, replayed=True, adopted=adopted)

    def keep_states(self, count: int) -> None:
        """Keep at most `count` folded states cached from now on, the least recently appended to
        leaving first. A worker keeps as many as it keeps workflow runs (app/worker.py): a city
        outside both pays a replay of its history anyway, beside which the store's read of its
        latest state is small, and 10,000 states held ~5 KiB each for a city just applied, ~47 KiB
        for one in review."""
        self._state_cache_size = count
        while len(self._states) > count:
            self._states.popitem(last=False)

    def _remember(self, stream_id: str, version: int, state: Any) -> None:
        self._states[stream_id] = (version, state)
        self._states.move_to_end(stream_id)
        while len(self._states) > self._state_cache_size:
            self._states.popitem(last=False)

    # --- reads -----------------------------------------------------------------------------------

    async def stream_version(self, stream_id: str) -> int:
        async with self.connection() as conn:
            version = await conn.fetchval("SELECT max(version) FROM events WHERE stream_id = $1", stream_id)
        return int(version or 0)

    async def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        """The stream's events with version >= from_version, upcast to current schema versions."""
        async with self.connection() as conn:
            rows = await conn.fetch(_READ_STREAM, stream_id, from_version)
        return [recorded_event(r, self.registry) for r in rows]

    async def events_by_id(self, event_ids: Sequence[UUID]) -> list[RecordedEvent]:
        """The recorded events among these ids, in stream and version order (missing ids are left
        out): how a caller learns whether a command it lost track of was recorded."""
        async with self.connection() as conn:
            rows = await conn.fetch(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ANY ($1::uuid[]) "
                "ORDER BY stream_id, version",
                list(event_ids),
            )
        return [recorded_event(r, self.registry) for r in rows]

    async def read_stream_page(
        self, stream_id: str, *, after: int = 0, limit: int = 1000, recorded_by: datetime | None = None
    ) -> StreamPage:
        """At most `limit` events of the stream with version > `after`, in order, upcast (only
        those recorded at or before `recorded_by`, if given), and the version to read the next page
        after. The database reads the page alone, never the rest of the stream."""
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValueError(f"after must be a version (an integer >= 0), got {after!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_STREAM_PAGE:
            raise ValueError(f"limit must be an integer from 1 to {MAX_STREAM_PAGE}, got {limit!r}")
        if recorded_by is not None and recorded_by.utcoffset() is None:
            raise InvalidEnvelope("as-of reads need a timezone-aware datetime")
        async with self.connection() as conn:
            rows = await conn.fetch(_READ_STREAM_PAGE, stream_id, after, recorded_by, limit + 1)
        events = [recorded_event(r, self.registry) for r in rows[:limit]]
        return StreamPage(events, events[-1].version if len(rows) > limit else None)

    async def stream_pages(
        self, stream_id: str, *, page: int = 1000, recorded_by: datetime | None = None
    ) -> AsyncIterator[list[RecordedEvent]]:
        """The whole stream (as of `recorded_by`, if given) one page at a time, so a reader that
        folds as it goes holds one page, never the stream."""
        after: int | None = 0
        while after is not None:
            result = await self.read_stream_page(stream_id, after=after, limit=page, recorded_by=recorded_by)
            if result.events:
                yield result.events
            after = result.next_after

    async def read_stream_as_of(self, stream_id: str, at: datetime) -> list[RecordedEvent]:
        """The stream as the store held it at `at`: events recorded at or before that moment.
        recorded_at rises from one append to the next within a stream, so this is always a prefix
        of the stream that ends at the end of an append."""
        if at.utcoffset() is None:
            raise InvalidEnvelope("as-of reads need a timezone-aware datetime")
        async with self.connection() as conn:
            rows = await conn.fetch(_READ_STREAM_AS_OF, stream_id, at)
        return [recorded_event(r, self.registry) for r in rows]

    async def read_all(self, after: Checkpoint = Checkpoint.START, limit: int = 1000) -> LogPage:
        """The next page of the global log after `after`. Every committed event appears exactly
        once across pages, in an order consistent with each stream."""
        async with self.connection() as conn:
            rows = await conn.fetch(_READ_ALL, after.transaction_id, after.position, limit)
        registry = self.registry
        events = [recorded_event(r, registry) for r in rows]
        return LogPage(events, events[-1].checkpoint if events else after)

    def to_domain(self, event: RecordedEvent) -> BaseModel:
        """The event's model (from the registry) inside a recorded envelope."""
        return self.registry.parse(event.type, event.data)

    # --- maintenance -----------------------------------------------------------------------------

    async def rebuild_projections(self) -> RebuildReport:
        """Replay the whole log into the projector's freshly emptied tables (one transaction)."""
        if self.projector is None:
            raise ProjectionError("a store without a projector has no projections to rebuild")
        self._states.clear()
        return await rebuild(self, self.projector)

    async def verify(self, anchor: Anchor | None = None) -> VerifyReport:
        """Walk every stream: hash chains, version gaps, the projector's tables against a fold,
        and every head `anchor` recorded still in place."""
        return await verify(self, self.projector, anchor)


class _Lease:
    """One use of a connection of the store (`EventStore.connection()`): a parked one or the
    pool's, with driver errors turned into EventStoreErrors. A class rather than an
    asynccontextmanager: a generator per use costs a few microseconds more (the event loop's
    asyncgen hooks keep each in a WeakSet)."""

    __slots__ = ("_acquired", "_conn", "_store")

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._conn: Any = None
        self._acquired: Any = None  # the acquire() in use when the pool is not asyncpg's

    async def __aenter__(self) -> asyncpg.Connection:
        store = self._store
        try:
            if store._park_size:
                self._conn = await store._take()
            else:
                self._acquired = store.pool.acquire()
                self._conn = await self._acquired.__aenter__()
        except BaseException as e:
            _raise_as_store_error(e)
            raise
        return cast(asyncpg.Connection, self._conn)  # a pool proxy behaves as the connection it wraps

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> None:
        store, conn, acquired = self._store, self._conn, self._acquired
        self._conn = self._acquired = None
        try:
            if acquired is not None:
                await acquired.__aexit__(kind, error, tb)
            elif error is None:
                await store._give(conn)
            else:  # the pool cleans up after a failure: a broken connection, a cancelled query
                await store.pool.release(conn)
        except BaseException as e:
            if error is None:
                _raise_as_store_error(e)
                raise
            # Giving it back failed after the use had failed: the use's error is the one to see.
        if error is not None:
            _raise_as_store_error(error)


def _open(conn: Any) -> bool:
    """Whether a pool's connection is still open: one the server closed is taken back by the pool
    as it closes, and its proxy then answers nothing."""
    try:
        return not conn.is_closed()
    except asyncpg.InterfaceError:
        return False


def _raise_as_store_error(error: BaseException) -> None:
    """Raise a driver's error as an EventStoreError (the server away: StoreUnavailable); any
    other error is left to its raiser."""
    if isinstance(error, EventStoreError):
        return
    if isinstance(error, _UNAVAILABLE):
        raise StoreUnavailable(f"event store database unavailable: {error}") from error
    if isinstance(error, asyncpg.PostgresError):
        raise EventStoreError(f"event store database error: {error}") from error


class _Elsewhere:
    """The stream's actual version, when it is not at the one an append expected."""

    __slots__ = ("version",)

    def __init__(self, version: int) -> None:
        self.version = version
