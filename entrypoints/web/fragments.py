"""Parts of pages kept while what they show is unchanged: rendered once, given many times.

A page's costly part (the round board's cities, a reviewer's queue) is rendered by
pages.render_part, which sees nothing of the person asking (no name, no CSRF token, no session:
only the words of a language), and kept in a slot named by everything else it depends on: the
page, the language, the role or the person whose data it shows. The page around it (the header
with the person's name and the sign-out form's token, the language switch) is rendered on every
request, as every page is.

A slot holds one version of its part. The version is the log's (`events_version`): a number that
moves whenever an event commits, and only then. Everything a kept part shows is in the log or in
a projection written in the same transaction as its events (a city's state, the review queue; the
rounds and their Honor Rolls are the programme stream's), so nothing is shown older than the log it
was read from, while the writes that record no event (a session touched each minute, a sign-in
link asked for, a mail sent, a subscription's checkpoint) leave the kept parts in place. One write
of projections records no event, `citycert projections rebuild` (run once when upgrading a store):
kept parts show the rebuilt rows after the next event, or once the portal is restarted.

How it knows: it keeps the database's snapshot at which its number last moved. An event committed
since has its transaction in that snapshot's list of those running, or at or above its horizon
(xmax); anything below the horizon and not running had finished, so was seen then. One small query
asks the events table (by its (transaction_id, position) index) whether such a row is there now; if
so the number moves, and the snapshot of that query becomes the one to compare with. Of two askers
that see the same change at once, the first moves it and the other takes the number as moved: it
reads the data after that move, so no part is ever older than its number says.

Who asks (`CITYCERT_WEB_EVENTS_POLL_MS`):
- A watcher in the web process (`LogWatch`, started and stopped by the app's lifespan, one per
  process) asks twice an interval, and a page takes the number from memory: no round trip of its
  own. A page trusts the number only while the watcher's last answer is younger than one interval
  (counted from when it asked); when the watcher is later than that, and whenever it failed (it
  logs once, and once again when it answers again), a page asks itself, as with no watcher. So
  nothing is shown more than one interval behind the log, and no outage is hidden.
- A command given through this process's command service moves the number as soon as it returns
  (`moved`, app/commands.py `CommandService.on_recorded`), and so does any append through this
  process's own store (`EventStore.on_appended`: a round created, a person added): whoever acted
  sees it on their next page without waiting for the watcher. An event recorded by another process
  (the CLI, a timer in the worker, another API process) shows within the interval.
- With the interval at 0, or where no lifespan runs (an ASGI test transport), there is no watcher:
  each page that keeps a part asks on every request. A page that keeps a part (`@keeps_parts`) then
  starts the question before the session is looked up (`read_version_early`, the first dependency
  of its router), on a connection of its own, so the two round trips overlap.

Why not LISTEN/NOTIFY from the append: NOTIFY takes a database-wide lock at commit, which would
serialise every appending transaction's commit (the event store's 8-writer throughput).

The slots live on the app (app.state), a few hundred at most, the least recently used given up
first. While one request renders a slot's new version, the others asking for it wait for it
rather than render it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import structlog
from fastapi import Request

from entrypoints.web.session import services_of
from eventstore import EventStore

log = structlog.get_logger("citycert.portal")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
KEEPS_PARTS = "citycert_keeps_parts"
_SINCE = """
SELECT pg_snapshot_xmax(s)::text AS xmax, ARRAY(SELECT pg_snapshot_xip(s))::text[] AS running,
       EXISTS (SELECT 1 FROM events WHERE transaction_id >= $1::text::xid8)
       OR EXISTS (SELECT 1 FROM events WHERE transaction_id = ANY($2::text[]::xid8[])) AS changed
  FROM pg_current_snapshot() AS s
"""


@dataclass
class LogVersion:
    """The log's number, and the snapshot it last moved at (its horizon and the transactions
    running then); the first request in a process finds every event "new", and moves it to 1."""

    number: int = 0
    xmax: str = "0"
    running: list[str] = field(default_factory=list)


async def events_version(store: EventStore, known: LogVersion) -> int:
    """The log's number now, moved if an event committed since it last moved."""
    xmax, running = known.xmax, known.running
    async with store.connection() as conn:
        row = await conn.fetchrow(_SINCE, xmax, running)
    assert row is not None, "a query of one snapshot answers one row"
    if row["changed"] and (known.xmax, known.running) == (xmax, running):
        known.number += 1
        known.xmax, known.running = row["xmax"], list(row["running"])
    # Moved by another request meanwhile: its snapshot is the one to compare with next, and its
    # number was set after that snapshot was taken, so what this request reads now is as new.
    return known.number


def _log_version(request: Request) -> LogVersion:
    return log_version_of(request.app)


def log_version_of(app: Any) -> LogVersion:
    """The app's log version (made on first use)."""
    found: LogVersion | None = getattr(app.state, "log_version", None)
    if found is None:
        found = app.state.log_version = LogVersion()
    return found


def moved(app: Any) -> None:
    """Move the app's number now: an event was recorded through this process (a command returned,
    or its store appended), so whoever gave it sees it on their next page, whatever the watcher has
    seen. The snapshot to compare with stays: the watcher, or a page, finds the same event new once
    more and moves the number again, which costs a kept part rendered twice, never one shown too
    old."""
    log_version_of(app).number += 1


class LogWatch:
    """Asks whether an event committed, on behalf of every page, so that a page trusting its
    number is never more than `interval` seconds behind the log."""

    def __init__(self, store: EventStore, known: LogVersion, interval: float) -> None:
        self.store = store
        self.known = known
        self.interval = interval
        self._asked_at: float | None = None  # when its last answer was asked (monotonic); None: none
        self.failing = False

    def fresh(self) -> bool:
        """Whether the number in memory is as new as the log but for at most one interval."""
        asked_at = self._asked_at
        return asked_at is not None and time.monotonic() - asked_at <= self.interval

    async def ask(self) -> None:
        """One question; on failure pages ask for themselves until an answer comes again."""
        asked_at = time.monotonic()
        try:
            await events_version(self.store, self.known)
        except Exception as error:
            self._asked_at = None
            if not self.failing:
                self.failing = True
                log.warning("portal.events_watch_failed", error=str(error) or type(error).__name__)
            return
        self._asked_at = asked_at
        if self.failing:
            self.failing = False
            log.info("portal.events_watch_recovered")

    async def run(self) -> None:
        """Ask twice an interval, at a steady rate: an answer is trusted for one interval, so the
        next is in before it is too old even when the loop or the database is slow by half an
        interval (a busy process would otherwise fall back to asking per page); a question that
        took long is followed at once."""
        while True:
            started = time.monotonic()
            await self.ask()
            await asyncio.sleep(max(0.0, started + self.interval / 2 - time.monotonic()))


@asynccontextmanager
async def watching_the_log(app: Any, store: EventStore, interval_ms: int) -> AsyncIterator[LogWatch | None]:
    """The app's watcher while the block runs (none at an interval of 0: pages ask themselves)."""
    if interval_ms <= 0:
        yield None
        return
    watch = app.state.log_watch = LogWatch(store, log_version_of(app), interval_ms / 1000)
    task = asyncio.create_task(watch.run(), name="citycert-log-watch")
    try:
        yield watch
    finally:
        app.state.log_watch = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _watched(request: Request) -> bool:
    watch: LogWatch | None = getattr(request.app.state, "log_watch", None)
    return watch is not None and watch.fresh()


def keeps_parts(endpoint: F) -> F:
    """Marks a page's function as one that reads the log's version (read_version_early starts it)."""
    setattr(endpoint, KEEPS_PARTS, True)
    return endpoint


async def read_version_early(request: Request) -> None:
    """For a page marked `keeps_parts` with no fresh watcher: the version's reading started now,
    the page awaits it."""
    if getattr(request.scope.get("endpoint"), KEEPS_PARTS, False) and not _watched(request):
        reading = asyncio.ensure_future(events_version(services_of(request).store, _log_version(request)))
        # Refused before it reads it (not signed in, another role): the answer is not waited for.
        reading.add_done_callback(lambda done: done.cancelled() or done.exception())
        request.state.reading_version = reading


async def version_of(request: Request) -> int:
    """The log's version: the watcher's while it is fresh, else the one read_version_early started
    reading for this page, else read now."""
    reading: asyncio.Future[int] | None = getattr(request.state, "reading_version", None)
    if reading is not None:
        return await reading
    if _watched(request):
        return _log_version(request).number
    return await events_version(services_of(request).store, _log_version(request))


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

    def drop(self, slot: Hashable) -> None:
        """Give up the slot's part (one found untrue before its version moved: by the clock)."""
        self._slots.pop(slot, None)

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


class KeptFolds(OrderedDict[Hashable, Any]):
    """Folds of cities' logs kept between one store's round boards and reports (app/round_report.py
    `folds`, committee.round_board), at most `size`, the least recently kept given up first. Kept by
    the city and its log's length: a city whose stream moved is folded again, the others not."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._lock = threading.Lock()  # the boards fold in worker threads (asyncio.to_thread)

    def __setitem__(self, key: Hashable, value: Any) -> None:
        with self._lock:
            super().__setitem__(key, value)
            self.move_to_end(key)
            while len(self) > self.size:
                self.popitem(last=False)


def kept_folds(request: Request, size: int = 4096) -> KeptFolds:
    """The app's kept folds (one store's: the app has one)."""
    found: KeptFolds | None = getattr(request.app.state, "kept_folds", None)
    if found is None:
        found = request.app.state.kept_folds = KeptFolds(size)
    return found
