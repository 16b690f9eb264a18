"""Subscribers: code that reacts to the global log (the notifier, future read models).

Each batch is one transaction: lock the subscriber, read its checkpoint, read the next page of the
log, let the handler write its effects through the same connection, store the new checkpoint. The
effects and the checkpoint commit together or not at all, so a crash or a retry never applies an
event twice. Appends may send a NOTIFY to wake subscribers early; it is only a hint, the query
decides what is new (and a poll interval covers a missed or absent notification).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import asyncpg

from eventstore.envelope import Checkpoint, RecordedEvent

if TYPE_CHECKING:
    from eventstore.store import EventStore

CHANNEL = "eventstore_events"
_LOCK_CLASS = 7312  # two-int advisory keys (7312, hashtext(name)): one batch per subscriber at a time

Handler = Callable[[asyncpg.Connection, RecordedEvent], Awaitable[None]]


class Subscriber:
    def __init__(self, store: EventStore, name: str, handler: Handler, *, batch_size: int = 200) -> None:
        if not name:
            raise ValueError("a subscriber needs a name")
        self.store = store
        self.name = name
        self.handler = handler
        self.batch_size = batch_size

    async def checkpoint(self) -> Checkpoint:
        async with self.store.connection() as conn:
            row = await conn.fetchrow(
                "SELECT transaction_id, position FROM subscriptions WHERE name = $1", self.name
            )
        return Checkpoint(row[0], row[1]) if row else Checkpoint.START

    async def process_batch(self) -> int:
        """Apply the next page of events; returns how many were applied."""
        async with self.store.connection() as conn, conn.transaction():
            # Two instances of one subscriber take turns: the second reads the first's checkpoint.
            await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, self.name)
            row = await conn.fetchrow(
                "SELECT transaction_id, position FROM subscriptions WHERE name = $1", self.name
            )
            after = Checkpoint(row[0], row[1]) if row else Checkpoint.START
            page = await self.store.read_all_with(conn, after, self.batch_size)
            if not page.events:
                return 0
            for event in page.events:
                await self.handler(conn, event)
            await conn.execute(
                """
                INSERT INTO subscriptions (name, transaction_id, position, updated_at)
                VALUES ($1, $2, $3, now())
                ON CONFLICT (name) DO UPDATE
                   SET transaction_id = EXCLUDED.transaction_id,
                       position = EXCLUDED.position,
                       updated_at = EXCLUDED.updated_at
                """,
                self.name,
                page.checkpoint.transaction_id,
                page.checkpoint.position,
            )
        return len(page.events)

    async def catch_up(self) -> int:
        """Apply everything visible now; returns how many events were applied."""
        total = 0
        while True:
            applied = await self.process_batch()
            total += applied
            if applied < self.batch_size:
                return total

    async def run(self, stop: asyncio.Event, *, poll_interval: float = 5.0) -> None:
        """Catch up, then wait for a NOTIFY (or the poll interval) and catch up again, until `stop`."""
        wake = asyncio.Event()

        def on_notify(*_: object) -> None:
            wake.set()

        async with self.store.connection() as listener:
            await listener.add_listener(CHANNEL, on_notify)
            try:
                while not stop.is_set():
                    wake.clear()
                    await self.catch_up()
                    stopping = asyncio.ensure_future(stop.wait())
                    woken = asyncio.ensure_future(wake.wait())
                    await asyncio.wait(
                        {stopping, woken}, timeout=poll_interval, return_when=asyncio.FIRST_COMPLETED
                    )
                    for task in (stopping, woken):
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
            finally:
                await listener.remove_listener(CHANNEL, on_notify)
