"""Rebuild the projections by replaying the whole log through the same fold as `append`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.state import CityState
from eventstore.errors import ProjectionError
from eventstore.projections import (
    CERTIFICATION_COLUMNS,
    CITY_STREAM_PREFIX,
    REVIEW_COLUMNS,
    STATUS_COLUMNS,
    Fact,
    Row,
    city_id_of,
    fold_city,
    review_rows,
    status_row,
)
from eventstore.registry import EventRegistry
from eventstore.rows import iter_streams, recorded_event

if TYPE_CHECKING:
    from eventstore.store import EventStore


@dataclass(slots=True)
class ProjectionRows:
    status: list[Row] = field(default_factory=list)
    certifications: list[Row] = field(default_factory=list)
    review_queue: list[Row] = field(default_factory=list)
    streams: int = 0
    events: int = 0


@dataclass(frozen=True, slots=True)
class RebuildReport:
    streams: int
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def project_stream(registry: EventRegistry, stream_id: str, rows: list[Any]) -> ProjectionRows:
    """Fold one city stream's rows (in version order) into its projection rows."""
    city_id = city_id_of(stream_id)
    assert city_id is not None
    facts = []
    for row in rows:
        e = recorded_event(row, registry)
        facts.append(Fact(registry.parse(e.type, e.data), e.version, e.event_id, e.occurred_at))
    try:
        folded = fold_city(CityState.initial(city_id), facts)
    except Exception as e:
        raise ProjectionError(f"cannot fold {stream_id}: {e}") from e
    return ProjectionRows(
        status=[
            (*status_row(folded.state, stream_id, rows[-1]["recorded_at"]), folded.state.model_dump_json())
        ],
        certifications=folded.certifications,
        review_queue=review_rows(folded.state),
        streams=1,
        events=len(rows),
    )


async def rebuild_projections(store: EventStore) -> RebuildReport:
    started = time.perf_counter()
    total = ProjectionRows()
    async with store.connection() as conn, conn.transaction():
        # SHARE conflicts with the inserts' ROW EXCLUSIVE: we wait for appends in flight and hold
        # new ones back until we commit, so the rebuilt tables and the log cannot part ways. (An
        # append computed its rows from a state that is a pure function of the log, so one that
        # was waiting writes rows that agree with the rebuild.)
        await conn.execute("LOCK TABLE events IN SHARE MODE")
        # Fold first and write at the end: this transaction gets its id (which holds back the
        # global-log readers' horizon) only for the short write, not for the whole replay.
        async for stream_id, rows in iter_streams(conn, prefix=CITY_STREAM_PREFIX):
            out = project_stream(store.registry, stream_id, rows)
            total.streams += 1
            total.events += out.events
            total.status.extend(out.status)
            total.certifications.extend(out.certifications)
            total.review_queue.extend(out.review_queue)
        await conn.execute("TRUNCATE city_status, certifications, review_queue")
        await conn.copy_records_to_table("city_status", records=total.status, columns=STATUS_COLUMNS)
        await conn.copy_records_to_table(
            "certifications", records=total.certifications, columns=CERTIFICATION_COLUMNS
        )
        await conn.copy_records_to_table("review_queue", records=total.review_queue, columns=REVIEW_COLUMNS)
    return RebuildReport(total.streams, total.events, time.perf_counter() - started)
