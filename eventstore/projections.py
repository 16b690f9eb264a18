"""The read models, as pure functions of (state before, event, state after).

`append` folds new events onto the city's state and writes the rows these functions return, in the
same transaction; `rebuild_projections` and `verify` fold the whole log with the same functions, so
the inline tables and a rebuild cannot drift apart by construction (and verify checks they did not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain import events as ev
from domain.state import AWAITING_REVIEWER, CityState, evolve

CITY_STREAM_PREFIX = "city-"

STATUS_COLUMNS = (
    "city_id",
    "stream_id",
    "version",
    "phase",
    "name",
    "country",
    "level",
    "valid_until",
    "cohort",
    "standard_version",
    "cycle",
    "score",
    "recommended_level",
    "open_review_items",
    "updated_at",
    "state",
)
CERTIFICATION_COLUMNS = (
    "city_id",
    "version",
    "event_id",
    "cycle",
    "cohort",
    "standard_version",
    "level",
    "previous_level",
    "outcome",
    "honor_roll",
    "valid_from",
    "valid_until",
    "decided_at",
)
REVIEW_COLUMNS = (
    "city_id",
    "criterion_id",
    "cohort",
    "reviewer_id",
    "status",
    "waiting_on",
    "due_at",
    "escalated",
)

# Enum values (phase, level, outcome, status) are StrEnum members: strings as they are, equal to
# the text read back from the database.
Row = tuple[Any, ...]


def city_stream(city_id: str) -> str:
    return f"{CITY_STREAM_PREFIX}{city_id}"


def city_id_of(stream_id: str) -> str | None:
    """The city a stream belongs to, or None for streams that have no city projections."""
    return stream_id.removeprefix(CITY_STREAM_PREFIX) if stream_id.startswith(CITY_STREAM_PREFIX) else None


@dataclass(frozen=True, slots=True)
class Fact:
    """A parsed domain event with the envelope fields the projections use."""

    event: Any  # a domain.events.DomainEvent
    version: int
    event_id: UUID
    occurred_at: datetime


def status_row(state: CityState, stream_id: str, updated_at: datetime | None) -> Row:
    """city_status without its last column, `state`: the columns people filter on (the domain's
    CitySummary). The state column holds state.model_dump_json() (pydantic's encoder, to text)."""
    s = state.summary()
    return (
        s.city_id,
        stream_id,
        s.version,
        s.phase,
        s.name,
        s.country,
        s.level,
        s.valid_until,
        s.cohort,
        s.standard_version,
        s.cycle,
        s.score,
        s.recommended_level,
        s.open_review_items,
        updated_at,
    )


def certification_row(before: CityState, fact: Fact, after: CityState) -> Row | None:
    """certifications: one row per final decision of a cycle, and per imported certification."""
    event = fact.event
    match event:
        case ev.CertificationAwarded():
            return (
                after.city_id,
                fact.version,
                fact.event_id,
                event.cycle,
                event.cohort,
                event.standard_version,
                event.level,
                event.previous_level,
                event.outcome,
                False,
                event.valid_from,
                event.valid_until,
                fact.occurred_at,
            )
        case ev.CertificationCycleClosed() if before.cycle is not None:
            return (
                after.city_id,
                fact.version,
                fact.event_id,
                event.cycle,
                before.cycle.cohort,
                before.cycle.standard_version,
                None,
                before.cycle.previous_level,
                "not_certified",
                event.honor_roll,
                None,
                None,
                fact.occurred_at,
            )
        case ev.CertificationImported():
            return (
                after.city_id,
                fact.version,
                fact.event_id,
                None,
                event.cohort,
                event.standard_version,
                event.level,
                before.level,
                "imported",
                False,
                event.valid_from,
                event.valid_until,
                fact.occurred_at,
            )
    return None


def review_rows(state: CityState) -> list[Row]:
    """review_queue: the open items of the current cycle, each waiting on a reviewer or the city."""
    cycle = state.cycle
    if cycle is None:
        return []
    rows = []
    for item in cycle.open_items:
        on_reviewer = item.status in AWAITING_REVIEWER
        rows.append(
            (
                state.city_id,
                item.criterion_id,
                cycle.cohort,
                item.reviewer_id,
                item.status,
                "reviewer" if on_reviewer else "city",
                item.review_due_at if on_reviewer else item.clarification_due_at,
                item.escalated,
            )
        )
    return rows


@dataclass(slots=True)
class CityFold:
    """The result of folding facts onto a city's state: the new state and the decisions met."""

    state: CityState
    certifications: list[Row]


def fold_city(state: CityState, facts: Iterable[Fact]) -> CityFold:
    certifications = []
    for fact in facts:
        after = evolve(state, fact.event)
        row = certification_row(state, fact, after)
        if row is not None:
            certifications.append(row)
        state = after
    return CityFold(state, certifications)


def review_queue_by_criterion(state: CityState) -> dict[str, Row]:
    return {row[1]: row for row in review_rows(state)}
