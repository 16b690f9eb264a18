"""The reviewers' questions a city has still to answer: the items of its open cycle waiting on the
city, each with the words of the question asked last (the state keeps only the due date; the
question stays in the log's ClarificationRequested event)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from domain import events as ev
from domain.state import CityState, ItemStatus
from eventstore import EventStore
from eventstore.rows import EVENT_COLUMNS, recorded_event
from readmodel.projector import city_stream

_ASKED = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND type = $2 AND version <= $3 "
    "ORDER BY version"
)


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    criterion_id: str
    question: str
    due_at: datetime | None


async def open_questions(store: EventStore, state: CityState) -> list[OpenQuestion]:
    """The questions the city's staff must answer, soonest due first, as of `state`."""
    cycle = state.cycle
    if cycle is None:
        return []
    waiting = {
        cid: item for cid, item in cycle.items.items() if item.status is ItemStatus.CLARIFICATION_REQUESTED
    }
    if not waiting:
        return []
    async with store.connection() as conn:
        rows = await conn.fetch(
            _ASKED, city_stream(state.city_id), ev.ClarificationRequested.event_type(), state.version
        )
    asked: dict[str, str] = {}
    for row in rows:  # in order: the last question on a criterion is the one open
        event = cast(ev.ClarificationRequested, store.to_domain(recorded_event(row, store.registry)))
        asked[event.criterion_id] = event.question
    found = [
        OpenQuestion(cid, asked.get(cid, ""), item.clarification_due_at) for cid, item in waiting.items()
    ]
    return sorted(found, key=lambda q: (q.due_at is None, q.due_at or datetime.max, q.criterion_id))
