"""The documents a city uploaded, read from its DocumentUploaded events: the log is their one
record (no projection table to keep in step), and a city's stream is read through its
(stream_id, version) index, its DocumentUploaded rows only."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from eventstore import EventStore, RecordedEvent
from eventstore.rows import EVENT_COLUMNS, recorded_event
from readmodel.projector import city_id_of, city_stream

_TYPE = ev.DocumentUploaded.event_type()
_CITY_DOCUMENTS = f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND type = $2 ORDER BY version"
_CITY_DOCUMENT = (
    f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND type = $2 AND data->>'document_id' = $3"
)
_EVERY_DOCUMENT = f"SELECT {EVENT_COLUMNS} FROM events WHERE type = $1 ORDER BY position"


class DocumentInfo(BaseModel):
    """A document's metadata as its DocumentUploaded event recorded it."""

    model_config = ConfigDict(frozen=True)

    document_id: str
    city_id: str
    title: str
    sha256: str
    size: int
    media_type: str
    uploaded_at: datetime


def _info(store: EventStore, recorded: RecordedEvent) -> DocumentInfo:
    event = cast(ev.DocumentUploaded, store.to_domain(recorded))
    return DocumentInfo(
        document_id=event.document_id,
        city_id=city_id_of(recorded.stream_id) or recorded.stream_id,
        title=event.title,
        sha256=event.sha256,
        size=event.size,
        media_type=event.media_type,
        uploaded_at=recorded.occurred_at,
    )


async def city_documents(store: EventStore, city_id: str) -> list[DocumentInfo]:
    """The city's documents, in the order they were uploaded."""
    async with store.connection() as conn:
        rows = await conn.fetch(_CITY_DOCUMENTS, city_stream(city_id), _TYPE)
    return [_info(store, recorded_event(row, store.registry)) for row in rows]


async def city_document(store: EventStore, city_id: str, document_id: str) -> DocumentInfo | None:
    """One of the city's documents, or None when the city recorded none of that id."""
    async with store.connection() as conn:
        row = await conn.fetchrow(_CITY_DOCUMENT, city_stream(city_id), _TYPE, document_id)
    return None if row is None else _info(store, recorded_event(row, store.registry))


async def every_document(store: EventStore) -> list[DocumentInfo]:
    """Every document any city recorded, in the log's order (for verify)."""
    async with store.connection() as conn:
        rows = await conn.fetch(_EVERY_DOCUMENT, _TYPE)
    return [_info(store, recorded_event(row, store.registry)) for row in rows]
