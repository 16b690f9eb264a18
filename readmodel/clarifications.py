"""A criterion's clarification thread in the city's open cycle: each reviewer's question and each
answer of the city, in the order they were recorded, with the documents an answer added. The state
keeps only the item's status and due dates; the words stay in the log's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, cast

from domain import events as ev
from domain.state import CityState
from eventstore import EventStore
from eventstore.rows import EVENT_COLUMNS, recorded_event
from readmodel.projector import city_stream

# A cycle's openings (the thread starts anew with each) and the thread's own events.
_TYPES = [
    cls.event_type()
    for cls in (
        ev.ApplicationSubmitted,
        ev.RecertificationStarted,
        ev.ClarificationRequested,
        ev.ClarificationAnswered,
    )
]
_THREAD = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND type = ANY($2::text[]) "
    "AND version <= $3 ORDER BY version"
)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One turn of the thread: a reviewer's question (with when the answer is due) or the city's answer."""

    said_by: Literal["reviewer", "city"]
    words: str
    at: datetime
    due_at: datetime | None = None
    documents: list[ev.Document] = field(default_factory=list)


async def clarification_thread(store: EventStore, state: CityState, criterion_id: str) -> list[Exchange]:
    """The criterion's questions and answers in the state's open cycle, oldest first; empty when no
    cycle is open or nobody asked."""
    if state.cycle is None:
        return []
    async with store.connection() as conn:
        rows = await conn.fetch(_THREAD, city_stream(state.city_id), _TYPES, state.version)
    thread: list[Exchange] = []
    for row in rows:
        recorded = recorded_event(row, store.registry)
        event = cast(ev.DomainEvent, store.to_domain(recorded))
        match event:
            case ev.ApplicationSubmitted() | ev.RecertificationStarted():
                thread = []
            case ev.ClarificationRequested() if event.criterion_id == criterion_id:
                thread.append(Exchange("reviewer", event.question, recorded.occurred_at, event.due_at))
            case ev.ClarificationAnswered() if event.criterion_id == criterion_id:
                thread.append(
                    Exchange("city", event.answer, recorded.occurred_at, documents=list(event.documents))
                )
    return thread
