"""A round's review capacity, kept across cities: the command service's check of an application.

Counting a round's applications is across cities, so no city's workflow can: the command service
asks here before it gives an application, and domain.rounds (refuse_beyond_capacity) decides on
the count. Two cities applying to the last place at the same moment take turns: the check and the
application it lets through run under a lock of the round, so the second counts the first. The lock
is PostgreSQL's (a transaction-level advisory lock keyed by the round's id), so API processes take
turns as well, and it goes with its transaction whatever happens to the request; within a process an
asyncio lock of the round queues the others first, so those waiting hold no database connection
(the pool stays free for the application's own recording). Applications are few, so the wait is
short and rare.

An application the city's own rules refuse anyway (the wrong phase, a round closed, a wait not over)
is not counted against the round: it goes on to the workflow, which says why in the city's words.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from app import errors
from app.rounds import all_rounds
from domain import CityState, DomainError, ProgrammePolicy, decide
from domain import commands as cmd
from domain.rounds import find_round, refuse_beyond_capacity
from eventstore import EventStore
from readmodel import city_id_of, city_state
from readmodel.queries import ROUND_STREAMS

# Two-int advisory key space: class 7312 (round capacity), beside the migrations' 7311.
_LOCK_CLASS = 7312
# Per event loop (an asyncio lock belongs to the loop it first waited in), then per round.
_LOCAL_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


@asynccontextmanager
async def place_kept(
    store: EventStore, city_id: str, command: cmd.HumanCommand, policy: ProgrammePolicy
) -> AsyncIterator[None]:
    """Around giving `command` to the city: for an application to a round, refused (Refused, 409)
    when the round is full, else the round held until the application is recorded or refused; any
    other command passes as it is."""
    if not isinstance(command, cmd.ApplyForCertification) or command.round is None:
        yield
        return
    if not await _allowed_by_the_city_rules(store, city_id, command, policy):
        yield
        return
    round_id = command.round.round_id
    in_loop = _LOCAL_LOCKS.setdefault(asyncio.get_running_loop(), {})
    local = in_loop.setdefault(round_id, asyncio.Lock())
    async with local, store.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, round_id)
        rounds = await all_rounds(store)
        found = find_round(rounds, round_id)
        names = found.recorded_as if found is not None else (round_id,)
        rows = await conn.fetch(ROUND_STREAMS, list(names))
        applied = {c for row in rows if (c := city_id_of(row["stream_id"])) is not None}
        try:
            refuse_beyond_capacity(rounds, round_id, applied, city_id, datetime.now(UTC).date())
        except DomainError as e:
            raise errors.Refused(str(e), refusal=e.refusal) from e
        yield


async def _allowed_by_the_city_rules(
    store: EventStore, city_id: str, command: cmd.ApplyForCertification, policy: ProgrammePolicy
) -> bool:
    state = await city_state(store, city_id) or CityState.initial(city_id)
    try:
        decide(state, command, now=datetime.now(UTC), policy=policy)
    except DomainError:
        return False
    return True
