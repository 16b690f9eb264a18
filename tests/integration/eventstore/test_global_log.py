"""The global log: every committed event exactly once, in an order consistent with each stream,
however writers interleave their commits."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from eventstore import Checkpoint, ConcurrencyConflict, EventStore, RecordedEvent
from tests.integration.eventstore.events import TEST_REGISTRY, ping, pings


async def read_everything(store: EventStore, after: Checkpoint = Checkpoint.START, page: int = 1000):
    events: list[RecordedEvent] = []
    while True:
        result = await store.read_all(after, page)
        events += result.events
        after = result.checkpoint
        if len(result.events) < page:
            return events, after


async def test_the_log_pages_through_every_event_once_in_stream_order(generic_store):
    for n in range(7):
        await generic_store.append(f"sensor-{n % 3}", 2 * (n // 3), pings(n, n))

    seen, checkpoint = await read_everything(generic_store, page=4)

    assert len(seen) == 14
    assert len({e.event_id for e in seen}) == 14
    for stream in ("sensor-0", "sensor-1", "sensor-2"):
        versions = [e.version for e in seen if e.stream_id == stream]
        assert versions == sorted(versions)
    # Nothing new: the next page after the checkpoint is empty and keeps the checkpoint.
    page = await generic_store.read_all(checkpoint)
    assert page.events == []
    assert page.checkpoint == checkpoint


class _OneConnection:
    """A pool of exactly one given connection, so an append can run inside a transaction the test
    holds open: the database is real, only the commit moment is the test's."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        yield self.conn


async def test_a_writer_that_commits_late_with_a_lower_position_is_not_skipped(database_url):
    reader = await EventStore.connect(database_url, registry=TEST_REGISTRY)
    early_conn = await asyncpg.connect(database_url)
    late_conn = await asyncpg.connect(database_url)
    early = EventStore(_OneConnection(early_conn), registry=TEST_REGISTRY)  # type: ignore[arg-type]
    late = EventStore(_OneConnection(late_conn), registry=TEST_REGISTRY)  # type: ignore[arg-type]
    try:
        # Given a writer whose transaction started first (it holds the older transaction id)...
        await early_conn.execute("BEGIN")
        await early_conn.fetchval("SELECT pg_current_xact_id()")
        # ...and another writer that inserts first (taking the lower position) but has not committed,
        await late_conn.execute("BEGIN")
        slow = await late.append("sensor-late", 0, pings(1))
        fast = await early.append("sensor-early", 0, pings(2))
        await early_conn.execute("COMMIT")
        assert slow.positions[0] < fast.positions[0]

        # when a reader catches up, it sees the committed event,
        first, checkpoint = await read_everything(reader)
        assert [e.stream_id for e in first] == ["sensor-early"]
        # and after the late writer commits, it sees that one too: a reader that paged by position
        # alone would have moved past the lower position already and lost the event.
        await late_conn.execute("COMMIT")
        second, _ = await read_everything(reader, checkpoint)
        assert [e.stream_id for e in second] == ["sensor-late"]
        assert second[0].position < first[0].position
    finally:
        await early_conn.close()
        await late_conn.close()
        await reader.close()


async def test_a_reader_beside_many_concurrent_writers_sees_every_event_once_in_stream_order(database_url):
    writers_store = await EventStore.connect(database_url, min_size=8, max_size=8, registry=TEST_REGISTRY)
    reader_store = await EventStore.connect(database_url, min_size=1, max_size=1, registry=TEST_REGISTRY)
    committed: dict[str, list[int]] = {}  # stream -> positions, as the writers were told
    done = asyncio.Event()
    rng = random.Random(7)

    async def writer(w: int) -> None:
        # Each writer appends to its own streams and to a few shared ones, where it meets
        # conflicts, rereads the version and tries again, as a workflow would.
        for i in range(60):
            stream = f"shared-{rng.randrange(3)}" if i % 4 == 0 else f"own-{w}-{i % 5}"
            batch = [ping(i) for _ in range(1 + rng.randrange(3))]
            while True:
                try:
                    version = await writers_store.stream_version(stream)
                    result = await writers_store.append(stream, version, batch)
                    break
                except ConcurrencyConflict:
                    await asyncio.sleep(0)
            committed.setdefault(stream, []).extend(result.positions)

    seen: list[RecordedEvent] = []

    async def reader() -> None:
        after = Checkpoint.START
        while True:
            finished = done.is_set()  # read once more after the writers are done
            page = await reader_store.read_all(after, 50)
            seen.extend(page.events)
            after = page.checkpoint
            if finished and not page.events:
                return
            if not page.events:
                await asyncio.sleep(0.001)

    try:
        reading = asyncio.create_task(reader())
        await asyncio.gather(*(writer(w) for w in range(8)))
        done.set()
        await reading
    finally:
        await writers_store.close()
        await reader_store.close()

    # Every committed event was seen exactly once...
    positions = [e.position for e in seen]
    assert len(positions) == len(set(positions))
    assert sorted(positions) == sorted(p for ps in committed.values() for p in ps)
    # ...and each stream's events in version order, without gaps.
    by_stream: dict[str, list[int]] = {}
    for e in seen:
        by_stream.setdefault(e.stream_id, []).append(e.version)
    for versions in by_stream.values():
        assert versions == list(range(1, len(versions) + 1))
    # The log is read in checkpoint (transaction id, position) order.
    assert [e.checkpoint for e in seen] == sorted(e.checkpoint for e in seen)
