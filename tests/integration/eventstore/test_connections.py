"""The store keeps its connections between uses instead of giving each back to the pool (asyncpg's
acquire and release cost as much CPU as a small query's round trip). These stories hold it to what
the pool gave before: a use always gets a working connection, never one left in a transaction or
busy with a cancelled query, nobody waits forever for the pool, and closing the store closes them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import asyncpg
import pytest

from eventstore import EventStore
from tests.integration.eventstore.events import TEST_REGISTRY, pings

# Every wait below is bounded, so a store that kept a connection it should have given back fails
# the story instead of hanging the suite. Not a timing assertion: the waits end at once when right.
BOUND = 10


@pytest.fixture
async def small_store(database_url: str) -> AsyncIterator[EventStore]:
    store = await EventStore.connect(database_url, min_size=1, max_size=2, registry=TEST_REGISTRY)
    try:
        yield store
    finally:
        await asyncio.wait_for(store.close(), BOUND)


async def backend(store: EventStore) -> int:
    async with store.connection() as conn:
        return int(await conn.fetchval("SELECT pg_backend_pid()"))


def closed(conn: asyncpg.Connection) -> bool:
    """Whether the driver has seen the connection close (the pool takes a pooled one back then)."""
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:
        return True


async def test_a_use_that_leaves_a_transaction_open_does_not_hand_it_to_the_next(small_store):
    # Given a use that began a transaction and never ended it,
    async with small_store.connection() as conn:
        await conn.execute("BEGIN")
        await conn.execute("CREATE TEMPORARY TABLE left_open (n int)")
    # when the store is used again, on whichever connection, then no transaction is open there
    async with small_store.connection() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
    # and appends work.
    assert (await small_store.append("sensor-1", 0, pings(1))).version == 1


async def test_a_cancelled_query_leaves_no_busy_connection_behind(small_store):
    started = asyncio.Event()

    async def slow() -> None:
        async with small_store.connection() as conn:
            started.set()
            await conn.execute("SELECT pg_sleep(30)")

    # Given a use cancelled in the middle of its query,
    task = asyncio.create_task(slow())
    await asyncio.wait_for(started.wait(), BOUND)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # when the store is used again, then every connection answers at once.
    for _ in range(3):
        async with small_store.connection() as conn:
            assert await asyncio.wait_for(conn.fetchval("SELECT 1"), BOUND) == 1


async def test_a_connection_the_server_closed_is_replaced(small_store, database_url):
    # Given a connection the store keeps, which the server then closes (and the driver has seen),
    async with small_store.connection() as kept:
        pid = int(await kept.fetchval("SELECT pg_backend_pid()"))
    admin = await asyncpg.connect(database_url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()
    for _ in range(200):
        if closed(kept):
            break
        await asyncio.sleep(0.05)
    assert closed(kept)
    # when the store is used again, then it is served by another connection, without an error.
    assert await backend(small_store) != pid
    assert (await small_store.append("sensor-1", 0, pings(1))).version == 1


async def test_a_use_waiting_for_the_pool_gets_the_first_connection_given_back(database_url):
    store = await EventStore.connect(database_url, min_size=1, max_size=3, registry=TEST_REGISTRY)
    # Given all three of the pool's connections in use and a fourth use waiting for one,
    releases = [asyncio.Event() for _ in range(3)]
    holding = 0

    async def hold(release: asyncio.Event) -> int:
        nonlocal holding
        async with store.connection() as conn:
            holding += 1
            await release.wait()
            return int(await conn.fetchval("SELECT 1"))

    holders = [asyncio.create_task(hold(r)) for r in releases]
    try:
        while holding < 3:
            await asyncio.sleep(0.01)
        waiting = asyncio.create_task(backend(store))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        # when one of them ends, then the waiting use is served by its connection while the other
        # two still hold theirs (the store does not keep a connection someone is waiting for).
        releases[0].set()
        assert await asyncio.wait_for(holders[0], BOUND) == 1
        assert await asyncio.wait_for(waiting, BOUND) > 0
        assert not holders[1].done() and not holders[2].done()
    finally:
        for r in releases:
            r.set()
        await asyncio.gather(*holders)
        await asyncio.wait_for(store.close(), BOUND)


async def test_whoever_acquires_from_the_pool_itself_is_served_while_the_store_keeps_some(small_store):
    # Given the store has used both of the pool's connections at once (and keeps what it may),
    async def use() -> None:
        async with small_store.connection() as conn:
            await conn.fetchval("SELECT pg_sleep(0.05)")

    await asyncio.gather(use(), use())
    # when someone acquires from the pool directly (app/tokens.py may be handed the pool), then
    # a connection is free for them.
    async with small_store.pool.acquire(timeout=BOUND) as conn:
        assert await conn.fetchval("SELECT 1") == 1


async def test_closing_the_store_closes_the_connections_it_keeps(database_url):
    store = await EventStore.connect(database_url, min_size=1, max_size=4, registry=TEST_REGISTRY)
    # Given a store that has appended (and keeps the connection it used),
    await store.append("sensor-1", 0, pings(1, 2))
    pid = await backend(store)
    # when it is closed, then it closes without waiting for the kept connection,
    await asyncio.wait_for(store.close(), BOUND)
    assert store.pool.is_closing()
    # and the server no longer serves that connection.
    admin = await asyncpg.connect(database_url)
    try:
        for _ in range(100):  # the backend's exit is the server's, a moment after the close
            if not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
                break
            await asyncio.sleep(0.05)
        assert not await admin.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)
    finally:
        await admin.close()
