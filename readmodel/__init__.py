"""The city programme's read model: the projector that keeps city_status, certifications and
review_queue in each append's transaction (and queues reminder notifications there), and every
query on those tables as a typed function.

    store = await open_city_store(dsn)
    rows = await list_cities(store, phase=Phase.REVIEW)
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from domain.events import DomainEvent
from domain.state import CityState, fold
from eventstore import EventStore
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
    CityRow,
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
    return fold(CityState.initial(city_id), [cast(DomainEvent, store.to_domain(e)) for e in events])


__all__ = [
    "CERTIFICATION_COLUMNS",
    "REMINDER_NOTIFICATION",
    "REVIEW_COLUMNS",
    "STATUS_COLUMNS",
    "CityProjector",
    "CityRow",
    "CityState",
    "CohortDecision",
    "ExpiringCertification",
    "ReviewItem",
    "city_id_of",
    "city_registry",
    "city_stream",
    "city_summary",
    "cohort_rows",
    "expiring_certifications",
    "list_cities",
    "load_city_state",
    "open_city_store",
    "open_review_items",
    "review_queue",
    "reviewer_queue",
]
