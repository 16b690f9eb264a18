"""The event store: append, read, fold, rebuild and verify, on PostgreSQL through asyncpg.

An append is one round trip: a call of `eventstore_append` (migration 0004), a single statement and
so its own transaction. Before it, in Python: the events are checked against their models, each
event's canonical body for the hash chain is computed, and for a city stream the projection rows
are folded from the city's state at the expected version (kept in a small cache, else read back
from city_status). The function takes the stream lock, checks the expected version, finishes the
hash chain with the database time, and writes the events and projection rows.

Idempotency costs nothing on the common path: a retried batch either meets a stream that moved on
(a version conflict) or, at the same version, the unique event_id constraint; only then are the ids
looked up, and the same batch again returns the original result.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import asyncpg
from pydantic import BaseModel, ValidationError

from domain.state import CityState
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
    ProjectionError,
    StoreUnavailable,
    UnknownEventType,
)
from eventstore.hashing import canonical_json, event_body, json_text
from eventstore.migrations import migrate
from eventstore.projections import (
    Fact,
    city_id_of,
    city_stream,
    fold_city,
    review_queue_by_criterion,
    status_row,
)
from eventstore.rebuild import RebuildReport, rebuild_projections
from eventstore.registry import EventRegistry, domain_registry
from eventstore.rows import EVENT_COLUMNS, recorded_event
from eventstore.subscriptions import CHANNEL, Handler, Subscriber
from eventstore.verify import VerifyReport, verify

_APPEND = f"SELECT * FROM eventstore_append({', '.join(f'${i}' for i in range(1, 18))})"
_READ_STREAM = f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY version"
_READ_STREAM_AS_OF = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND recorded_at <= $2 ORDER BY version"
)
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

    def differs_from(self, row: asyncpg.Record) -> str | None:
        """Why a stored row differs from this event, or None when it is the same event."""
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
        for name, new, old in checks:
            if new != old:
                return f"its {name} differs"
        return None


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
    released, listeners are removed), so the default reset query would only cost a round trip."""


class _Folded:
    """A cached city state with its review queue rows (what the next append diffs against)."""

    __slots__ = ("queue", "state")

    def __init__(self, state: CityState) -> None:
        self.state = state
        self.queue = review_queue_by_criterion(state)


class EventStore:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        registry: EventRegistry | None = None,
        projections: bool = True,
        notify: bool = True,
        notify_delay: float = 0.05,
        state_cache_size: int = 10_000,
    ) -> None:
        self.pool = pool
        self.registry = registry if registry is not None else domain_registry()
        self.projections = projections
        self.notify = notify
        self.notify_delay = notify_delay
        self._notify_timer: asyncio.TimerHandle | None = None
        self._notify_tasks: set[asyncio.Task[None]] = set()
        # Folded city states by stream. The state at (stream, version) is a pure function of the
        # immutable log, so a cached copy is right whenever its version is the one we append after.
        self._states: OrderedDict[str, _Folded] = OrderedDict()
        self._state_cache_size = state_cache_size

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        registry: EventRegistry | None = None,
        projections: bool = True,
        notify: bool = True,
    ) -> EventStore:
        try:
            pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, reset=_no_reset)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
            raise StoreUnavailable(f"cannot connect to the event store database: {e}") from e
        return cls(pool, registry=registry, projections=projections, notify=notify)

    async def close(self) -> None:
        if self._notify_timer is not None:
            self._notify_timer.cancel()
            self._send_notify()
        if self._notify_tasks:
            await asyncio.gather(*self._notify_tasks, return_exceptions=True)
        await self.pool.close()

    def _committed(self) -> None:
        """After a commit: wake subscribers with a NOTIFY, at most one per notify_delay.

        The NOTIFY goes out after the commit, in its own statement, and is debounced: PostgreSQL
        serialises the commits of notifying transactions, so one per append would serialise the
        writers. It is only a hint (subscribers also poll); the trailing timer makes sure the last
        append of a burst is followed by one."""
        if self.notify and self._notify_timer is None:
            self._notify_timer = asyncio.get_running_loop().call_later(self.notify_delay, self._send_notify)

    def _send_notify(self) -> None:
        self._notify_timer = None
        task = asyncio.ensure_future(self._notify_now())
        self._notify_tasks.add(task)
        task.add_done_callback(self._notify_tasks.discard)

    async def _notify_now(self) -> None:
        with contextlib.suppress(Exception):  # a lost hint only delays subscribers to their poll
            async with self.pool.acquire() as conn:
                await conn.execute("SELECT pg_notify($1, '')", CHANNEL)

    async def __aenter__(self) -> EventStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection, with driver errors turned into EventStoreErrors."""
        try:
            async with self.pool.acquire() as conn:
                # A pool proxy behaves as the connection it wraps.
                yield cast(asyncpg.Connection, conn)
        except EventStoreError:
            raise
        except _UNAVAILABLE as e:
            raise StoreUnavailable(f"event store database unavailable: {e}") from e
        except asyncpg.PostgresError as e:
            raise EventStoreError(f"event store database error: {e}") from e

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

    async def append(self, stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> AppendResult:
        """Append `events` to `stream_id` if it is at `expected_version`, in one transaction.

        Appending ids that are already recorded (with the same content) returns the original
        result without writing; every refusal leaves the store unchanged.
        """
        pending = self._check(stream_id, expected_version, events)
        bodies = [p.body(stream_id, expected_version + i) for i, p in enumerate(pending, start=1)]
        city_id = city_id_of(stream_id) if self.projections else None
        after: _Folded | None = None
        async with self.connection() as conn:
            projection: list[Any] = [None, [], [], [], []]
            if city_id is not None:
                before = await self._state_at(conn, city_id, stream_id, expected_version)
                if isinstance(before, int):  # the stream is elsewhere: a retry, or a conflict
                    return await self._replayed_or_conflict(
                        conn, stream_id, expected_version, before, pending
                    )
                after, projection = self._project(city_id, stream_id, expected_version, before, pending)
            try:
                row = await conn.fetchrow(
                    _APPEND,
                    stream_id,
                    expected_version,
                    [p.event.event_id for p in pending],
                    [p.event.type for p in pending],
                    [p.schema_version for p in pending],
                    [p.event.occurred_at for p in pending],
                    [p.event.actor.role for p in pending],
                    [p.event.actor.id for p in pending],
                    [p.event.correlation.workflow_id if p.event.correlation else None for p in pending],
                    [p.event.correlation.run_id if p.event.correlation else None for p in pending],
                    [p.data_text for p in pending],
                    bodies,
                    *projection,
                )
            except asyncpg.UniqueViolationError as e:
                if e.constraint_name != "events_event_id_key":
                    raise
                replayed = await self._replayed(conn, stream_id, pending)
                if replayed is None:  # the id was recorded by another append just now
                    raise DuplicateEventConflict(pending[0].event.event_id, "recorded concurrently") from e
                return replayed
            assert row is not None
            if row["outcome"] == "conflict":
                return await self._replayed_or_conflict(
                    conn, stream_id, expected_version, row["actual_version"], pending
                )
        if after is not None:
            self._remember(stream_id, after)
        self._committed()
        first = expected_version + 1
        return AppendResult(stream_id, tuple(range(first, first + len(pending))), tuple(row["positions"]))

    async def _state_at(
        self, conn: asyncpg.Connection, city_id: str, stream_id: str, version: int
    ) -> _Folded | int:
        """The city's folded state at `version`, to fold the new events onto: from the cache, else
        the stored projection state, else a fold of the stream. When the stream is not at `version`,
        its actual version instead (the append cannot succeed; it may be a retry)."""
        cached = self._states.get(stream_id)
        if cached is not None and cached.state.version == version:
            return cached
        if version == 0:
            return _Folded(CityState.initial(city_id))  # eventstore_append checks it is still empty
        stored = await conn.fetchrow("SELECT version, state FROM city_status WHERE city_id = $1", city_id)
        if stored is not None and stored["version"] == version:
            try:
                return _Folded(CityState.model_validate_json(stored["state"]))
            except ValidationError:
                pass  # a state written by older code: fold the stream instead
        actual = await conn.fetchval(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = $1", stream_id
        )
        if actual != version:
            return int(actual)
        # No usable stored state (projections added later, or an odd row): fold the stream.
        rows = await conn.fetch(_READ_STREAM, stream_id, 1)
        return _Folded(self._fold(city_id, [recorded_event(r, self.registry) for r in rows]))

    async def _replayed_or_conflict(
        self, conn: asyncpg.Connection, stream_id: str, expected: int, actual: int, pending: list[_Pending]
    ) -> AppendResult:
        """The stream is not at the expected version. A retry of an append that already succeeded
        lands here too (the stream moved on by its own events): the ids tell."""
        replayed = await self._replayed(conn, stream_id, pending)
        if replayed is None:
            raise ConcurrencyConflict(stream_id, expected, actual)
        return replayed

    def _project(
        self, city_id: str, stream_id: str, head: int, before: _Folded, pending: list[_Pending]
    ) -> tuple[_Folded, list[Any]]:
        """Fold the new events onto `before`; returns the new state and eventstore_append's
        projection arguments (rows as tuples in table column order, sent as composite values):
        the status row, new certification rows, and the review queue's changes only (most commands
        touch a few of a city's dozens of items): new rows, changed rows, closed criteria."""
        facts = [
            Fact(p.model, head + i, p.event.event_id, p.event.occurred_at)
            for i, p in enumerate(pending, start=1)
        ]
        try:
            folded = fold_city(before.state, facts)
        except Exception as e:
            raise ProjectionError(f"cannot fold {stream_id} v{head + 1}..: {e}") from e
        # version and updated_at are filled in by eventstore_append (it knows the database time).
        status = (*status_row(folded.state, stream_id, None), folded.state.model_dump_json())
        after = _Folded(folded.state)
        old_queue, new_queue = before.queue, after.queue
        return after, [
            status,
            folded.certifications,
            [row for criterion, row in new_queue.items() if criterion not in old_queue],
            [
                row
                for criterion, row in new_queue.items()
                if criterion in old_queue and old_queue[criterion] != row
            ],
            [criterion for criterion in old_queue if criterion not in new_queue],
        ]

    async def _replayed(
        self, conn: asyncpg.Connection, stream_id: str, pending: list[_Pending]
    ) -> AppendResult | None:
        """None when none of the ids is recorded; the original result when exactly this batch was
        recorded before (a retry); else DuplicateEventConflict saying what differs."""
        rows = await conn.fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ANY ($1::uuid[])",
            [p.event.event_id for p in pending],
        )
        if not rows:
            return None
        stored = {r["event_id"]: r for r in rows}
        for p in pending:
            row = stored.get(p.event.event_id)
            if row is None:
                known = next(iter(stored))
                raise DuplicateEventConflict(known, "the batch mixes recorded events with new ones")
            if row["stream_id"] != stream_id:
                raise DuplicateEventConflict(p.event.event_id, f"it belongs to stream {row['stream_id']!r}")
            why = p.differs_from(row)
            if why is not None:
                raise DuplicateEventConflict(p.event.event_id, why)
        ordered = sorted(rows, key=lambda r: r["version"])
        versions = [r["version"] for r in ordered]
        same_order = [r["event_id"] for r in ordered] == [p.event.event_id for p in pending]
        if not same_order or versions != list(range(versions[0], versions[0] + len(versions))):
            raise DuplicateEventConflict(pending[0].event.event_id, "it was recorded in another batch")
        return AppendResult(stream_id, tuple(versions), tuple(r["position"] for r in ordered), replayed=True)

    def _remember(self, stream_id: str, state: _Folded) -> None:
        self._states[stream_id] = state
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
            return await self.read_all_with(conn, after, limit)

    async def read_all_with(self, conn: asyncpg.Connection, after: Checkpoint, limit: int) -> LogPage:
        rows = await conn.fetch(_READ_ALL, after.transaction_id, after.position, limit)
        registry = self.registry
        events = [recorded_event(r, registry) for r in rows]
        return LogPage(events, events[-1].checkpoint if events else after)

    async def iter_all(
        self, after: Checkpoint = Checkpoint.START, page_size: int = 1000
    ) -> AsyncIterator[RecordedEvent]:
        while True:
            page = await self.read_all(after, page_size)
            for event in page.events:
                yield event
            if len(page.events) < page_size:
                return
            after = page.checkpoint

    def to_domain(self, event: RecordedEvent) -> BaseModel:
        """The domain event inside a recorded envelope."""
        return self.registry.parse(event.type, event.data)

    def _fold(self, city_id: str, events: Sequence[RecordedEvent]) -> CityState:
        facts = [Fact(self.to_domain(e), e.version, e.event_id, e.occurred_at) for e in events]
        return fold_city(CityState.initial(city_id), facts).state

    async def load_state(self, city_id: str, *, as_of: datetime | None = None) -> CityState:
        """The city's state folded from its stream (as the store held it at `as_of`, if given)."""
        stream_id = city_stream(city_id)
        events = await (
            self.read_stream(stream_id) if as_of is None else self.read_stream_as_of(stream_id, as_of)
        )
        return self._fold(city_id, events)

    def subscriber(self, name: str, handler: Handler, *, batch_size: int = 200) -> Subscriber:
        """A subscriber named `name` that applies `handler` to each new event, exactly once."""
        return Subscriber(self, name, handler, batch_size=batch_size)

    # --- maintenance -----------------------------------------------------------------------------

    async def rebuild_projections(self) -> RebuildReport:
        """Replay the whole log into freshly emptied projection tables (one transaction)."""
        self._states.clear()
        return await rebuild_projections(self)

    async def verify(self) -> VerifyReport:
        """Walk every stream: hash chains, version gaps, and projections against a fresh fold."""
        return await verify(self)
