"""Parts of pages kept while what they show is unchanged: rendered once, given many times.

A page's costly part (the round board's cities, a reviewer's queue) is rendered by
pages.render_part, which sees nothing of the person asking (no name, no CSRF token, no session:
only the words of a language), and kept in a slot named by everything else it depends on: the
page, the language, the role or the person whose data it shows. The page around it (the header
with the person's name and the sign-out form's token, the language switch) is rendered on every
request, as every page is.

A slot holds one version of its part. The version is `data_mark`: the log's last position and the
database's snapshot, which moves whenever any transaction that wrote commits (a position is handed
out at insert, so an earlier one may commit after a later one: the snapshot says so). Any write,
an event appended, a projection or a round's row updated, a session touched, makes the next
request render the part anew; nothing is ever shown older than the database it reads.

The slots live on the app (app.state), a few hundred at most, the least recently used given up
first. While one request renders a slot's new version, the others asking for it wait for it
rather than render it too.

Reading the mark is a round trip to the database, as finding the session is: a page that keeps a
part (`@keeps_parts`) starts reading it before the session is looked up (`read_mark_early`, the
first dependency of its router), on a connection of its own, so the two overlap.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

from fastapi import Request

from entrypoints.web.session import services_of
from eventstore import EventStore

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
KEEPS_PARTS = "citycert_keeps_parts"
_MARK = "SELECT (SELECT max(position) FROM events) AS p, pg_current_snapshot()::text AS s"


async def data_mark(store: EventStore) -> tuple[object, ...]:
    """What changes whenever anything is recorded: the version of every kept part."""
    async with store.connection() as conn:
        row = await conn.fetchrow(_MARK)
    assert row is not None, "a query of aggregates answers one row"
    return (row["p"], row["s"])


def keeps_parts(endpoint: F) -> F:
    """Marks a page's function as one that reads the mark (read_mark_early starts it)."""
    setattr(endpoint, KEEPS_PARTS, True)
    return endpoint


async def read_mark_early(request: Request) -> None:
    """For a page marked `keeps_parts`: the mark's reading started now, the page awaits it."""
    if getattr(request.scope.get("endpoint"), KEEPS_PARTS, False):
        reading = asyncio.ensure_future(data_mark(services_of(request).store))
        # Refused before it reads it (not signed in, another role): the answer is not waited for.
        reading.add_done_callback(lambda done: done.cancelled() or done.exception())
        request.state.reading_mark = reading


async def mark_of(request: Request) -> tuple[object, ...]:
    """The mark read_mark_early started reading for this page, else read now."""
    reading: asyncio.Future[tuple[object, ...]] | None = getattr(request.state, "reading_mark", None)
    if reading is None:
        return await data_mark(services_of(request).store)
    return await reading


class Kept:
    """Slots of one kind of part, each holding its latest version (at most `size` slots)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._making: dict[Hashable, asyncio.Event] = {}

    async def get(self, slot: Hashable, version: Hashable, make: Callable[[], Awaitable[T]]) -> T:
        """The slot's part at `version`: kept, or made now (once, however many ask at once)."""
        while True:
            found = self._slots.get(slot)
            if found is not None and found[0] == version:
                self._slots.move_to_end(slot)
                return cast(T, found[1])
            making = self._making.get(slot)
            if making is None:
                break
            await making.wait()  # then look again: made at this version, or at another, or failed
        done = self._making[slot] = asyncio.Event()
        try:
            value = await make()
            self._slots[slot] = (version, value)
            self._slots.move_to_end(slot)
            while len(self._slots) > self.size:
                self._slots.popitem(last=False)
            return value
        finally:
            del self._making[slot]
            done.set()

    def __len__(self) -> int:
        return len(self._slots)


def kept(request: Request, name: str, size: int) -> Kept:
    """The app's slots of one kind (made on first use)."""
    found: dict[str, Kept] | None = getattr(request.app.state, "kept_parts", None)
    if found is None:
        found = request.app.state.kept_parts = {}
    if name not in found:
        found[name] = Kept(size)
    return found[name]
