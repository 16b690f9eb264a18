"""Subscribers apply each event exactly once: their position moves in the same transaction as
their effects."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from eventstore import EventStore, RecordedEvent
from tests.eventstore.events import TEST_REGISTRY, pings


async def make_effects_table(store: EventStore) -> None:
    # The subscriber's effect: one row per event, refusing a second (so "twice" would show).
    async with store.connection() as conn:
        await conn.execute("CREATE TABLE effects (event_id uuid PRIMARY KEY, n int NOT NULL)")


async def record_effect(conn: asyncpg.Connection, event: RecordedEvent) -> None:
    await conn.execute("INSERT INTO effects VALUES ($1, $2)", event.event_id, event.data["n"])


async def effects(store: EventStore) -> list[int]:
    async with store.connection() as conn:
        return [r["n"] for r in await conn.fetch("SELECT n FROM effects ORDER BY n")]


async def test_a_subscriber_applies_new_events_once_and_remembers_where_it_got_to(generic_store):
    await make_effects_table(generic_store)
    notifier = generic_store.subscriber("notifier", record_effect, batch_size=2)
    await generic_store.append("sensor-1", 0, pings(1, 2, 3))

    assert await notifier.catch_up() == 3
    assert await notifier.catch_up() == 0  # nothing new: nothing applied again
    await generic_store.append("sensor-1", 3, pings(4))
    assert await notifier.catch_up() == 1

    assert await effects(generic_store) == [1, 2, 3, 4]
    (last,) = await generic_store.read_stream("sensor-1", from_version=4)
    assert await notifier.checkpoint() == last.checkpoint


async def test_a_failing_handler_rolls_back_its_effects_and_its_position_together(generic_store):
    await make_effects_table(generic_store)
    await generic_store.append("sensor-1", 0, pings(1, 2, 3))

    async def fails_on_the_third(conn: asyncpg.Connection, event: RecordedEvent) -> None:
        await record_effect(conn, event)
        if event.data["n"] == 3:
            raise RuntimeError("mail server down")

    # When the handler fails partway through a batch,
    with pytest.raises(RuntimeError):
        await generic_store.subscriber("notifier", fails_on_the_third).catch_up()
    # then the effects of the events before it in the batch are rolled back with the position,
    assert await effects(generic_store) == []
    # and the next run (handler fixed) applies every event exactly once.
    assert await generic_store.subscriber("notifier", record_effect).catch_up() == 3
    assert await effects(generic_store) == [1, 2, 3]


async def test_two_instances_of_one_subscriber_never_apply_an_event_twice(generic_store):
    await make_effects_table(generic_store)
    for n in range(0, 40, 4):
        await generic_store.append("sensor-1", n, pings(n, n + 1, n + 2, n + 3))

    first = generic_store.subscriber("notifier", record_effect, batch_size=3)
    second = generic_store.subscriber("notifier", record_effect, batch_size=3)
    counts = await asyncio.gather(first.catch_up(), second.catch_up())

    assert sum(counts) == 40
    assert await effects(generic_store) == list(range(40))


async def test_each_subscriber_keeps_its_own_position(generic_store):
    await make_effects_table(generic_store)
    await generic_store.append("sensor-1", 0, pings(1, 2))
    seen: list[int] = []

    async def remember(conn: asyncpg.Connection, event: RecordedEvent) -> None:
        seen.append(event.data["n"])

    await generic_store.subscriber("notifier", record_effect).catch_up()
    assert await generic_store.subscriber("read-model", remember).catch_up() == 2
    assert seen == [1, 2]


async def test_a_notify_wakes_a_waiting_subscriber(database_url):
    writer = await EventStore.connect(database_url, registry=TEST_REGISTRY)
    reader = await EventStore.connect(database_url, registry=TEST_REGISTRY)
    arrived = asyncio.Event()

    async def on_event(conn: asyncpg.Connection, event: RecordedEvent) -> None:
        arrived.set()

    stop = asyncio.Event()
    # A poll interval far longer than the wait below: only the NOTIFY can wake it in time.
    running = asyncio.create_task(reader.subscriber("notifier", on_event).run(stop, poll_interval=600))
    try:
        await asyncio.sleep(0.2)  # let it catch up (nothing yet) and start listening
        await writer.append("sensor-1", 0, pings(1))
        await asyncio.wait_for(arrived.wait(), timeout=30)
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
        await writer.close()
        await reader.close()
