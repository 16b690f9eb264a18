"""The city programme's read model: the projector that keeps city_status, certifications and
review_queue in each append's transaction (and queues reminder notifications there), and every
query on those tables as a typed function.

    store = await open_city_store(dsn)
    rows = await list_cities(store, phase=Phase.REVIEW)
"""

from __future__ import annotations

from domain.state import CityState
from eventstore import EventStore
from readmodel.documents import DocumentInfo, city_document, city_documents, every_document
from readmodel.folds import FOLD_PAGE, fold_city_events, fold_off_loop, load_city_state
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
    RoundDecision,
    city_state,
    city_summary,
    cohort_rows,
    expiring_certifications,
    list_cities,
    open_review_items,
    recorded_cohorts,
    review_queue,
    reviewer_loads,
    reviewer_queue,
    round_city_ids,
    round_decisions,
)
from readmodel.worksheet import NoCity, city_worksheet


async def open_city_store(dsn: str, *, min_size: int = 1, max_size: int = 10) -> EventStore:
    """An event store with the domain's events and the city projector."""
    return await EventStore.connect(
        dsn, min_size=min_size, max_size=max_size, registry=city_registry(), projector=CityProjector()
    )


__all__ = [
    "CERTIFICATION_COLUMNS",
    "FOLD_PAGE",
    "REMINDER_NOTIFICATION",
    "REVIEW_COLUMNS",
    "STATUS_COLUMNS",
    "CityProjector",
    "CityState",
    "CityStatus",
    "CohortDecision",
    "DocumentInfo",
    "ExpiringCertification",
    "NoCity",
    "ReviewItem",
    "RoundDecision",
    "city_document",
    "city_documents",
    "city_id_of",
    "city_registry",
    "city_state",
    "city_stream",
    "city_summary",
    "city_worksheet",
    "cohort_rows",
    "every_document",
    "expiring_certifications",
    "fold_city_events",
    "fold_off_loop",
    "list_cities",
    "load_city_state",
    "open_city_store",
    "open_review_items",
    "recorded_cohorts",
    "review_queue",
    "reviewer_loads",
    "reviewer_queue",
    "round_city_ids",
    "round_decisions",
]
