"""A stream read one page at a time: every event exactly once, in version order, and the database
reads the page alone (the bounded query on the (stream_id, version) index), never the whole stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from eventstore import EventStore, InvalidEnvelope, RecordedEvent
from eventstore.store import MAX_STREAM_PAGE
from tests.integration.eventstore.events import TEST_REGISTRY, pings


async def fill(store: EventStore, stream_id: str, count: int, batch: int = 100) -> None:
    for first in range(0, count, batch):
        await store.append(stream_id, first, pings(*range(first + 1, min(first + batch, count) + 1)))


async def every_page(store: EventStore, stream_id: str, limit: int, **read: Any) -> list[list[RecordedEvent]]:
    pages, after = [], 0
    while after is not None:
        page = await store.read_stream_page(stream_id, after=after, limit=limit, **read)
        assert len(page.events) <= limit
        pages.append(page.events)
        after = page.next_after
    return pages


async def test_pages_hold_every_event_of_a_long_stream_once_in_order(generic_store):
    await fill(generic_store, "sensor-1", 25)
    await fill(generic_store, "sensor-2", 3)  # another stream's events never appear

    pages = await every_page(generic_store, "sensor-1", 10)

    assert [[e.version for e in page] for page in pages] == [
        list(range(1, 11)),
        list(range(11, 21)),
        list(range(21, 26)),
    ]
    assert [e for page in pages for e in page] == await generic_store.read_stream("sensor-1")
    assert [e.data["n"] for page in pages for e in page] == list(range(1, 26))


async def test_a_page_that_ends_the_stream_names_no_next_page(generic_store):
    await fill(generic_store, "sensor-1", 20)

    full = await generic_store.read_stream_page("sensor-1", after=10, limit=10)
    assert [e.version for e in full.events] == list(range(11, 21))
    assert full.next_after is None  # no empty page to fetch after the last full one
    past = await generic_store.read_stream_page("sensor-1", after=20, limit=10)
    assert (past.events, past.next_after) == ([], None)
    unknown = await generic_store.read_stream_page("sensor-9", limit=10)
    assert (unknown.events, unknown.next_after) == ([], None)


async def test_pages_as_of_a_moment_hold_the_events_recorded_by_then(generic_store):
    await fill(generic_store, "sensor-1", 12, batch=4)
    events = await generic_store.read_stream("sensor-1")
    moment = events[7].recorded_at  # the end of the second append

    pages = await every_page(generic_store, "sensor-1", 3, recorded_by=moment)

    assert [e for page in pages for e in page] == await generic_store.read_stream_as_of("sensor-1", moment)
    assert [e.version for page in pages for e in page] == list(range(1, 9))
    whole = [
        e async for page in generic_store.stream_pages("sensor-1", page=5, recorded_by=moment) for e in page
    ]
    assert whole == events[:8]


async def test_bad_page_arguments_are_refused(generic_store):
    for read in ({"after": -1}, {"limit": 0}, {"limit": MAX_STREAM_PAGE + 1}, {"after": True}):
        with pytest.raises(ValueError):
            await generic_store.read_stream_page("sensor-1", **read)
    with pytest.raises(InvalidEnvelope):
        await generic_store.read_stream_page("sensor-1", recorded_by=datetime(2026, 1, 1))


class _Logged:
    """A pool of one real connection whose queries the test sees (the database is real)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.queries: list[tuple[str, tuple[Any, ...]]] = []
        conn.add_query_logger(lambda logged: self.queries.append((logged.query, tuple(logged.args))))

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        yield self.conn


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", ()) for node in _nodes(child))]


async def test_a_page_read_makes_the_database_read_one_page_not_the_stream(generic_store, database_url):
    await fill(generic_store, "sensor-1", 2000, batch=500)
    await fill(generic_store, "sensor-2", 500, batch=500)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("ANALYZE events")
        pool = _Logged(conn)
        reader = EventStore(pool, registry=TEST_REGISTRY)  # type: ignore[arg-type]

        page = await reader.read_stream_page("sensor-1", after=1000, limit=50)
        await asyncio.sleep(0)  # asyncpg calls its query loggers soon after, not at once

        assert [e.version for e in page.events] == list(range(1001, 1051))
        ((query, args),) = pool.queries
        # The statement the store ran, run again under EXPLAIN ANALYZE: a LIMIT of one row more
        # than the page on top, and no step of the plan touches more rows than that: the index
        # gives the rows from the cursor on, in order, and the scan stops after the page.
        assert "LIMIT" in query and args[-1] == 51
        (explained,) = json.loads(await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {query}", *args))
        plan = explained["Plan"]
        assert plan["Node Type"] == "Limit" and plan["Actual Rows"] == 51
        assert max(node["Actual Rows"] for node in _nodes(plan)) == 51
        assert any(node.get("Index Name") == "events_stream_version_key" for node in _nodes(plan))
    finally:
        await conn.close()
