"""A city's review worksheet (domain/worksheet.py): its state as the projection holds it, and the
documents of each criterion's submission under review, read from the log's evidence events (the
state keeps only which slots hold a document, not the documents)."""

from __future__ import annotations

from typing import cast

from domain import events as ev
from domain.standard import get_standard
from domain.worksheet import Worksheet, documents_in_play, worksheet
from eventstore import EventStore
from eventstore.rows import EVENT_COLUMNS, recorded_event
from readmodel.projector import city_stream
from readmodel.queries import city_state

# A cycle's start and the events that bring documents: all a worksheet reads of the stream.
_EVIDENCE_TYPES = [
    cls.event_type()
    for cls in (
        ev.ApplicationSubmitted,
        ev.RecertificationStarted,
        ev.EvidenceSubmitted,
        ev.ClarificationAnswered,
    )
]
_EVIDENCE = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND type = ANY($2::text[]) "
    "AND version <= $3 ORDER BY version"
)


class NoCity(LookupError):
    """No city of that id is registered."""


async def city_worksheet(store: EventStore, city_id: str) -> Worksheet | None:
    """The worksheet of the city's open cycle; None when it has none; NoCity when no such city."""
    state = await city_state(store, city_id)
    if state is None:
        raise NoCity(city_id)
    if state.cycle is None:
        return None
    standard = get_standard(state.cycle.standard_version, state.cycle.standard_revision)
    async with store.connection() as conn:
        # Up to the state's version: the documents are those of the state read, not of a later append.
        rows = await conn.fetch(_EVIDENCE, city_stream(city_id), _EVIDENCE_TYPES, state.version)
    events = [cast(ev.DomainEvent, store.to_domain(recorded_event(row, store.registry))) for row in rows]
    return worksheet(state, standard, documents_in_play(events))
