"""The Projector protocol from the store's side, with a projector that knows no domain: which
streams it is asked about, the state it folds onto, and what a failing fold does to an append."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from eventstore import EventStore, ParsedEvent, ProjectionError, ProjectionTable, Row
from tests.integration.eventstore.events import TEST_REGISTRY, pings

Sums = tuple[int, ...]  # the pings' n, in order: the state this projector keeps


class PingSums:
    """Folds the `sensor-` streams into the sequence of their pings, and refuses a negative one."""

    stream_prefix = "sensor-"
    tables: Sequence[ProjectionTable] = ()

    def __init__(self) -> None:
        self.folded_onto: list[tuple[str, Sums]] = []
        self.stored_asked = 0

    def initial(self, stream_id: str) -> Sums:
        return ()

    def fold(self, state: Sums, events: Sequence[ParsedEvent]) -> Sums:
        return (*state, *(e.event.n for e in events))  # type: ignore[attr-defined]

    async def stored_state(
        self, conn: asyncpg.Connection, stream_id: str, version: int
    ) -> tuple[int, Sums] | None:
        self.stored_asked += 1
        return None  # no tables: the store folds the stream

    def append_arguments(
        self, stream_id: str, before: Sums, events: Sequence[ParsedEvent]
    ) -> tuple[Sums, Sequence[Any]]:
        if any(e.event.n < 0 for e in events):  # type: ignore[attr-defined]
            raise ValueError("a negative ping")
        self.folded_onto.append((stream_id, before))
        return self.fold(before, events), ()

    def stream_rows(
        self,
        stream_id: str,
        events: Sequence[ParsedEvent],
        recorded_at: datetime,
        sampled: Mapping[str, Mapping[Any, Collection[int]]] | None = None,
    ) -> Mapping[str, list[Row]]:
        return {}


async def test_each_append_folds_onto_the_state_the_previous_one_left(database_url):
    projector = PingSums()
    async with await EventStore.connect(database_url, registry=TEST_REGISTRY, projector=projector) as store:
        await store.append("sensor-1", 0, pings(1, 2))
        await store.append("sensor-1", 2, pings(3))
        await store.append("other-1", 0, pings(9))  # not a stream it folds

    assert projector.folded_onto == [("sensor-1", ()), ("sensor-1", (1, 2))]
    assert projector.stored_asked == 0, "the second append continued from the cached state"


async def test_a_store_that_has_not_seen_the_stream_folds_it_from_the_log(database_url):
    async with await EventStore.connect(database_url, registry=TEST_REGISTRY) as writer:
        await writer.append("sensor-1", 0, pings(1, 2))
    projector = PingSums()
    async with await EventStore.connect(database_url, registry=TEST_REGISTRY, projector=projector) as store:
        await store.append("sensor-1", 2, pings(3))

    assert projector.stored_asked == 1
    assert projector.folded_onto == [("sensor-1", (1, 2))]


async def test_events_the_projector_cannot_fold_are_not_recorded(database_url):
    async with await EventStore.connect(database_url, registry=TEST_REGISTRY, projector=PingSums()) as store:
        with pytest.raises(ProjectionError, match="a negative ping"):
            await store.append("sensor-1", 0, pings(1, -1))

        assert await store.stream_version("sensor-1") == 0
        assert (await store.verify()).ok
