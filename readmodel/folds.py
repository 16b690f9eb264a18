"""Folds of a city's stream: page by page, off the event loop (see fold_off_loop for why)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from domain.events import DomainEvent
from domain.state import CityState, fold
from eventstore import EventStore, RecordedEvent
from readmodel.projector import city_stream

FOLD_PAGE = 1000  # events read and folded at a time by load_city_state


async def load_city_state(store: EventStore, city_id: str, *, as_of: datetime | None = None) -> CityState:
    """The city's state folded from its stream (as the store held it at `as_of`, if given).

    The stream is read a page at a time and each page folded off the event loop (fold_off_loop),
    so a long stream holds neither the whole stream in memory nor the loop. For the state now
    from the latest snapshot and the few events after it, read `city_state`."""
    state = CityState.initial(city_id)
    async for events in store.stream_pages(city_stream(city_id), page=FOLD_PAGE, recorded_by=as_of):
        state = await fold_off_loop(store, state, events)
    return state


async def fold_off_loop(store: EventStore, state: CityState, events: Sequence[RecordedEvent]) -> CityState:
    """`state` with `events` (the stream's next ones, in order) folded onto it, in a worker thread.

    Why a thread: parsing and folding events is pure CPU work that grows with the stream, with no
    await inside; on the event loop a long stream's fold would stall every other request, append
    and timer of the process until it ended. In a thread it is no faster (the GIL), but the
    interpreter switches back to the loop every few milliseconds (sys.getswitchinterval), so the
    process keeps serving everyone else while the fold runs."""
    return await asyncio.to_thread(_fold_onto, store, state, events)


def fold_city_events(store: EventStore, city_id: str, events: Sequence[RecordedEvent]) -> CityState:
    """The state a city's recorded events (its stream's first ones, in order) fold to, on the
    calling thread: from a coroutine, use fold_off_loop."""
    return _fold_onto(store, CityState.initial(city_id), events)


def _fold_onto(store: EventStore, state: CityState, events: Sequence[RecordedEvent]) -> CityState:
    return fold(state, [cast(DomainEvent, store.to_domain(e)) for e in events])
