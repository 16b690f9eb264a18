"""A city's state: now from the projection (no fold), in the past folded from the stream page by
page, and every fold off the event loop so a long stream does not stall the process."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import readmodel
from domain.levels import Level
from eventstore import EventStore, RecordedEvent
from readmodel import city_state, city_stream, city_summary, load_city_state
from tests.integration.eventstore.stories import CityRun

ALL_CRITERIA = 43  # every criterion of wwc-2022: a cycle of well over a hundred events


async def certified(store: EventStore, city_id: str = "lakeside") -> CityRun:
    run = CityRun(store, city_id)
    await run.register()
    await run.certify(approved=ALL_CRITERIA, level=Level.GOLD)
    return run


async def test_the_state_now_is_the_projection_and_equals_the_fold_of_the_stream(store):
    # Given a city's events, recorded through the store as the workflow records them,
    run = await certified(store)
    await certified(store, "fairview")

    # the state the projection holds is the fold of the stream, and the state the events make.
    now = await city_state(store, "lakeside")
    assert now == await load_city_state(store, "lakeside") == run.state
    assert now is not None and (now.version, now.phase, now.level) == (run.state.version, "certified", "gold")
    assert await city_state(store, "nowhere") is None


async def test_the_state_now_parses_no_event(store, monkeypatch):
    run = await certified(store)
    parsed: list[int] = []
    parse = store.to_domain
    monkeypatch.setattr(store, "to_domain", lambda e: parsed.append(e.version) or parse(e))

    assert await city_state(store, "lakeside") == run.state
    assert parsed == [], "the projection's state needs no fold"
    assert await load_city_state(store, "lakeside") == run.state
    assert parsed == list(range(1, run.state.version + 1)), "a fold parses each event once, in order"


async def test_a_fold_over_many_pages_equals_one_over_the_whole_stream(store, monkeypatch):
    run = await certified(store)
    events = await store.read_stream(city_stream("lakeside"))
    assert len(events) > 100
    monkeypatch.setattr(readmodel.folds, "FOLD_PAGE", 7)  # some twenty pages, the last one short

    assert await load_city_state(store, "lakeside") == run.state
    # As of a moment in the past, the fold stops at what the store held then.
    applied = run.results[1].version
    then = await load_city_state(store, "lakeside", as_of=events[applied - 1].recorded_at)
    assert (then.version, then.phase) == (applied, "evidence")
    assert then == readmodel.fold_city_events(store, "lakeside", events[:applied])


async def test_a_long_fold_runs_off_the_event_loop_so_other_requests_go_on(store, monkeypatch):
    """Ordering, not time: the fold stops at its first event until a request on the event loop has
    been answered. Were the fold on the loop, that request could not run until the fold ended."""
    run = await certified(store)
    await certified(store, "fairview")
    fold_started, loop_answered = threading.Event(), threading.Event()
    order: list[str] = []
    parse = store.to_domain

    def parse_and_wait(event: RecordedEvent) -> Any:
        if not fold_started.is_set():
            order.append(f"fold starts on the {_thread()}")
            fold_started.set()
            # A bound for a broken build (the fold on the loop thread), not a timing assertion.
            if not loop_answered.wait(timeout=30):
                order.append("nobody answered while the fold waited")
        return parse(event)

    monkeypatch.setattr(store, "to_domain", parse_and_wait)

    async def another_request() -> None:
        while not fold_started.is_set():
            await asyncio.sleep(0)
        other = await city_summary(store, "fairview")  # a real query, while the fold is under way
        assert other is not None
        order.append(f"another request answered ({other.phase}) on the {_thread()}")
        loop_answered.set()

    fold = asyncio.create_task(load_city_state(store, "lakeside"))
    await another_request()
    state = await fold
    order.append("fold ends")

    assert state == run.state
    assert order == [
        "fold starts on the worker thread",
        "another request answered (certified) on the event loop's thread",
        "fold ends",
    ]


def _thread() -> str:
    return "event loop's thread" if threading.current_thread() is threading.main_thread() else "worker thread"
