"""The city programme's read model: the projector that keeps city_status, certifications and
review_queue in each append's transaction (and queues reminder notifications there), and every
query on those tables as a typed function.

    store = await open_city_store(dsn)
    rows = await list_cities(store, phase=Phase.REVIEW)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from domain.events import DomainEvent
from domain.state import CityState, fold
from eventstore import EventStore, RecordedEvent
from readmodel.projector import (
    CERTIFICATION_COLUMNS,
    REMINDER_NOTIFICATION,
    REVIEW_COLUMNS,
    STATUS_COLUMNS,
    CityProjector,
    city_id_of,
    city_registry,
    city_stream,
)
from readmodel.queries import (
    CityStatus,
    CohortDecision,
    ExpiringCertification,
    ReviewItem,
    city_summary,
    cohort_rows,
    expiring_certifications,
    list_cities,
    open_review_items,
    review_queue,
    reviewer_queue,
)


async def open_city_store(dsn: str, *, min_size: int = 1, max_size: int = 10) -> EventStore:
    """An event store with the domain's events and the city projector."""
    return await EventStore.connect(
        dsn, min_size=min_size, max_size=max_size, registry=city_registry(), projector=CityProjector()
    )


async def load_city_state(store: EventStore, city_id: str, *, as_of: datetime | None = None) -> CityState:
    """The city's state folded from its stream (as the store held it at `as_of`, if given)."""
    stream_id = city_stream(city_id)
    events = await (
        store.read_stream(stream_id) if as_of is None else store.read_stream_as_of(stream_id, as_of)
    )
    return fold_city_events(store, city_id, events)


def fold_city_events(store: EventStore, city_id: str, events: Sequence[RecordedEvent]) -> CityState:
    """The state a city's recorded events (its stream's first ones, in order) fold to."""
    return fold(CityState.initial(city_id), [cast(DomainEvent, store.to_domain(e)) for e in events])


__all__ = [
    "CERTIFICATION_COLUMNS",
    "REMINDER_NOTIFICATION",
    "REVIEW_COLUMNS",
    "STATUS_COLUMNS",
    "CityProjector",
    "CityState",
    "CityStatus",
    "CohortDecision",
    "ExpiringCertification",
    "ReviewItem",
    "city_id_of",
    "city_registry",
    "city_stream",
    "city_summary",
    "cohort_rows",
    "expiring_certifications",
    "fold_city_events",
    "list_cities",
    "load_city_state",
    "open_city_store",
    "open_review_items",
    "review_queue",
    "reviewer_queue",
]
