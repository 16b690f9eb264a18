"""The city projector's rows per append are the rows made from scratch: an append's review queue
changes, applied to the rows before it, give the open items of the state after it; its status row
is the domain's summary of that state. (Rebuild and verify make every row from scratch, so the
append path must never differ from them.)"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bench.eventstore import city_history
from domain import events as ev
from domain.state import CityState, evolve
from eventstore import ParsedEvent
from readmodel.projector import CityProjector, FoldedCity, city_registry, review_rows, status_row
from tests.unit.domain import story

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REGISTRY = city_registry()


def parsed(events: Sequence[ev.DomainEvent], after: int = 0) -> list[ParsedEvent]:
    return [ParsedEvent(e, after + i, uuid.uuid4(), AT) for i, e in enumerate(events, start=1)]


def certified_story() -> list[list[ev.DomainEvent]]:
    """A city certified (tests/unit/domain/story.py), one event per append."""
    return [[e] for e in story.certified()]


def benchmark_history() -> list[list[ev.DomainEvent]]:
    """Two cycles with bulk commands, a clarification, a decision, reminders and a re-certification,
    made by the real decider (bench/eventstore.py), one command's events per append."""
    return [
        [REGISTRY.parse(e.type, e.data) for e in batch]  # type: ignore[misc]
        for batch in city_history(0, 100)
    ]


def summary_row(state: CityState, stream_id: str) -> tuple[object, ...]:
    """The status row's first columns as the domain's summary says them."""
    s = state.summary()
    return (
        s.city_id, stream_id, s.version, s.phase, s.name, s.country, s.level, s.valid_until, s.round_id,
        s.standard_version, s.cycle, s.score, s.recommended_level, s.open_review_items,
    )  # fmt: skip


@pytest.mark.parametrize("history", [certified_story, benchmark_history])
def test_each_appends_rows_are_the_rows_a_fold_from_scratch_makes(history) -> None:
    # Given a city's history, appended batch by batch through the projector,
    projector = CityProjector()
    batches = history()
    city_id = batches[0][0].city_id
    stream = f"city-{city_id}"
    folded: FoldedCity = projector.initial(stream)
    queue = {row[1]: row for row in review_rows(folded.state)}
    version, changes_seen = 0, 0
    for batch in batches:
        # when each batch's arguments are made,
        folded, arguments = projector.append_arguments(stream, folded, parsed(batch, version))
        version += len(batch)
        status, _, new, changed, closed, _, _ = arguments
        new, changed, closed = new or [], changed or [], closed or []
        for criterion in closed:
            del queue[criterion]
        for row in [*new, *changed]:
            queue[row[1]] = row
        changes_seen += len(new) + len(changed) + len(closed)
        # then the queue they leave is the open items of the state folded from scratch,
        state = CityState.initial(city_id)
        for e in [e for b in batches for e in b][:version]:
            state = evolve(state, e)
        assert folded.state == state
        assert queue == {row[1]: row for row in review_rows(state)}
        assert folded.review_queue == queue
        # and the status row says what the domain's summary of that state says.
        assert status[:14] == summary_row(state, stream)
        assert status == status_row(state, stream, None)
    assert changes_seen > 0, "the history moves the review queue"
