"""Turning rows into envelopes and envelopes into rows (shared by store, rebuild and verify)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from asyncpg import Record

from eventstore.envelope import Actor, Correlation, RecordedEvent
from eventstore.projector import ParsedEvent
from eventstore.registry import EventRegistry

EVENT_COLUMNS = (
    "event_id, stream_id, version, position, transaction_id, type, schema_version, data, "
    "occurred_at, recorded_at, actor_role, actor_id, workflow_id, run_id, hash"
)


def recorded_event(row: Record | Sequence[Any], registry: EventRegistry | None) -> RecordedEvent:
    """A RecordedEvent from a row of EVENT_COLUMNS, upcast when a registry is given (verify reads
    without one: the hash chain covers the data as stored)."""
    event_id, stream_id, version, position, txid, type_, schema_version, data, occurred_at, recorded_at = row[
        :10
    ]
    role, actor_id, workflow_id, run_id, hash_ = row[10:]
    payload = json.loads(data)
    if registry is not None and schema_version != registry.current.get(type_, schema_version):
        schema_version, payload = registry.upcast(type_, schema_version, payload)
    return RecordedEvent(
        event_id,
        stream_id,
        version,
        position,
        txid,
        type_,
        schema_version,
        payload,
        occurred_at,
        recorded_at,
        Actor(role, actor_id),
        Correlation(workflow_id, run_id or "") if workflow_id is not None else None,
        hash_,
    )


async def iter_streams(
    conn: Any, *, prefix: str = "", prefetch: int = 2000
) -> AsyncIterator[tuple[str, list[Any]]]:
    """Every stream (optionally only those starting with `prefix`) as (stream_id, rows in version
    order), from a server-side cursor: the caller must be inside a transaction."""
    query = f"SELECT {EVENT_COLUMNS} FROM events"
    args: list[Any] = []
    if prefix:
        # A range rather than LIKE, so the (stream_id, version) index serves it in any collation.
        query += " WHERE stream_id >= $1 AND left(stream_id, $2) = $1"
        args = [prefix, len(prefix)]
    query += " ORDER BY stream_id, version"
    current: str | None = None
    rows: list[Any] = []
    async for row in conn.cursor(query, *args, prefetch=prefetch):
        stream_id = row[1]
        if stream_id != current:
            if current is not None:
                yield current, rows
            current, rows = stream_id, []
        rows.append(row)
    if current is not None:
        yield current, rows


def parsed_events(registry: EventRegistry, rows: Sequence[Any]) -> list[ParsedEvent]:
    """Rows of EVENT_COLUMNS (one stream, in version order) as upcast, parsed events for a projector."""
    parsed = []
    for row in rows:
        e = recorded_event(row, registry)
        parsed.append(ParsedEvent(registry.parse(e.type, e.data), e.version, e.event_id, e.occurred_at))
    return parsed
