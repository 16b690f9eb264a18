"""Rebuild a projector's tables by replaying the whole log through the same fold as `append`."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from eventstore.errors import ProjectionError
from eventstore.projector import Projector, Row, StoreAccess
from eventstore.rows import iter_streams, parsed_events


@dataclass(frozen=True, slots=True)
class RebuildReport:
    streams: int
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def project_stream(
    store: StoreAccess,
    projector: Projector[Any],
    stream_id: str,
    rows: list[Any],
    sampled: Mapping[str, Mapping[Any, Collection[int]]] | None = None,
) -> dict[str, list[Row]]:
    """One stream's rows (in version order) folded into its projection rows, by table (the sampled
    tables' at the versions `sampled` gives, when given: Projector.stream_rows)."""
    events = parsed_events(store.registry, rows)  # an unreadable event raises as itself
    try:
        if sampled is None:
            return dict(projector.stream_rows(stream_id, events, rows[-1]["recorded_at"]))
        return dict(projector.stream_rows(stream_id, events, rows[-1]["recorded_at"], sampled))
    except Exception as e:
        raise ProjectionError(f"cannot fold {stream_id}: {e}") from e


async def rebuild(store: StoreAccess, projector: Projector[Any]) -> RebuildReport:
    """Replay the log into the projector's freshly emptied tables, in one transaction."""
    started = time.perf_counter()
    streams = events = 0
    rows: dict[str, list[Row]] = {table.name: [] for table in projector.tables}
    async with store.connection() as conn, conn.transaction():
        # SHARE conflicts with the inserts' ROW EXCLUSIVE: we wait for appends in flight and hold
        # new ones back until we commit, so the rebuilt tables and the log cannot part ways. (An
        # append computed its rows from a state that is a pure function of the log, so one that
        # was waiting writes rows that agree with the rebuild.) The runtime role may not take that
        # lock itself: the owner lends it through eventstore_hold_appends (migration 0008).
        await conn.execute("SELECT eventstore_hold_appends()")
        # Fold first and write at the end: this transaction gets its id (which holds back the
        # global-log readers' horizon) only for the short write, not for the whole replay.
        async for stream_id, stream in iter_streams(conn, prefix=projector.stream_prefix):
            streams += 1
            events += len(stream)
            for name, table_rows in project_stream(store, projector, stream_id, stream).items():
                rows[name].extend(table_rows)
        await conn.execute(f"TRUNCATE {', '.join(table.name for table in projector.tables)}")
        for table in projector.tables:
            await conn.copy_records_to_table(table.name, records=rows[table.name], columns=table.columns)
    return RebuildReport(streams, events, time.perf_counter() - started)
