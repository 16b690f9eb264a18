"""The city projector: city_status, certifications and review_queue, folded with the domain's
`evolve`, and the reminder notifications the events cause.

`append` folds new events onto the city's state and writes the rows this projector returns, in the
same transaction; `rebuild` and `verify` fold the whole log through the same functions, so the
inline tables and a rebuild cannot drift apart by construction (and verify checks they did not).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import ValidationError

from domain import events as ev
from domain.events import EVENT_TYPES, UPCASTERS
from domain.notices import NoticeKind, notice_for
from domain.programme import PROGRAMME_EVENT_TYPES
from domain.state import AWAITING_REVIEWER, CityState, evolve
from eventstore import EventRegistry, ParsedEvent, ProjectionTable, Row

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
    "round_id",
    "standard_version",
    "cycle",
    "score",
    "recommended_level",
    "open_review_items",
    "updated_at",
    "state",
    "reminders_sent",
    "region",
    "certificate_number",
    "certificate_status",
    "valid_from",
)
CERTIFICATION_COLUMNS = (
    "city_id",
    "version",
    "event_id",
    "cycle",
    "round_id",
    "standard_version",
    "level",
    "previous_level",
    "outcome",
    "honor_roll",
    "valid_from",
    "valid_until",
    "decided_at",
    "certificate_number",
)
REVIEW_COLUMNS = (
    "city_id",
    "criterion_id",
    "round_id",
    "reviewer_id",
    "status",
    "waiting_on",
    "due_at",
    "escalated",
)


def _state_as_read(stored: Any) -> Any:
    """A stored state as the projector reads it back (through the model, defaults left out): a
    state written before fields were added, or with its defaults written out, reads the same as
    a fresh fold's; one whose values were changed does not. Not a state at all: compared as it is."""
    try:
        return CityState.model_validate(stored).model_dump(mode="json", exclude_defaults=True)
    except ValidationError:
        return stored


TABLES = (
    ProjectionTable(
        "city_status",
        STATUS_COLUMNS,
        key_length=1,
        json_columns=frozenset({"state"}),
        canonical={"state": _state_as_read},
    ),
    ProjectionTable("certifications", CERTIFICATION_COLUMNS, key_length=2),
    ProjectionTable("review_queue", REVIEW_COLUMNS, key_length=2),
)

REMINDER_NOTIFICATION = NoticeKind.EXPIRY_REMINDER.value  # notification_outbox.kind of a ReminderSent


def city_registry() -> EventRegistry:
    """The domain's event types (a city's and the programme stream's) and upcasters."""
    return EventRegistry({**EVENT_TYPES, **PROGRAMME_EVENT_TYPES}, UPCASTERS)


def city_stream(city_id: str) -> str:
    return f"{CITY_STREAM_PREFIX}{city_id}"


def city_id_of(stream_id: str) -> str | None:
    """The city a stream belongs to, or None for streams that have no city projections."""
    return stream_id.removeprefix(CITY_STREAM_PREFIX) if stream_id.startswith(CITY_STREAM_PREFIX) else None


# Enum values (phase, level, outcome, status) are StrEnum members: strings as they are, equal to
# the text read back from the database.
def status_row(state: CityState, stream_id: str, updated_at: datetime | None) -> Row:
    """city_status: the columns people filter on (the domain's CitySummary), the folded state
    (pydantic's JSON, for the next append to fold onto) and the reminders already sent."""
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
        s.round_id,
        s.standard_version,
        s.cycle,
        s.score,
        s.recommended_level,
        s.open_review_items,
        updated_at,
        # Defaults left out: the stored state is read back only through the model, which restores
        # them, and it is less than half the size (about 2.7 KB for a city in review, not 6 KB),
        # which every append rewrites.
        state.model_dump_json(exclude_defaults=True),
        list(state.certification.reminders_sent) if state.certification else [],
        s.region,
        s.certificate_number,
        s.certificate_status,
        s.valid_from,
    )


def certification_row(before: CityState, fact: ParsedEvent, after: CityState) -> Row | None:
    """certifications: one row per final decision of a cycle, and per imported certification."""
    event: Any = fact.event
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
                _number(after),
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
                None,
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
                _number(after),
            )
    return None


def _number(after: CityState) -> str | None:
    return after.certification.number if after.certification else None


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
                item.is_escalated,
            )
        )
    return rows


def notification_row(city_id: str, fact: ParsedEvent) -> Row | None:
    """notification_outbox: the notice an event gives people (domain/notices.py), queued by the
    append that records the event (created_at is the append's); None for an event nobody hears of."""
    notice = notice_for(fact.event)  # type: ignore[arg-type]  # the registry's domain events
    if notice is None:
        return None
    payload = json.dumps(notice.model_dump(mode="json", exclude_defaults=True), sort_keys=True)
    return (fact.event_id, city_id, notice.kind.value, payload, None, 0, None)


@dataclass(frozen=True, slots=True)
class FoldedCity:
    """A city's state with its review queue rows by criterion (what the next append diffs against)."""

    state: CityState
    review_queue: dict[str, Row]

    @classmethod
    def of(cls, state: CityState) -> FoldedCity:
        return cls(state, {row[1]: row for row in review_rows(state)})


@dataclass(slots=True)
class CityFold:
    """Facts folded onto a city's state: the new state, and the decisions and reminders met."""

    state: CityState
    certifications: list[Row]
    notifications: list[Row]


def fold_city(state: CityState, facts: Iterable[ParsedEvent], *, notices: bool = False) -> CityFold:
    """With `notices`, also the notifications the facts queue: only an append queues them, so a
    fold, a rebuild or a verify does not spend a notice per event (bench/eventstore.py: rebuild
    58,600 -> 48,600 events/s when every fold made them)."""
    certifications, notifications = [], []
    for fact in facts:
        after = evolve(state, fact.event)  # type: ignore[arg-type]  # the registry's domain events
        row = certification_row(state, fact, after)
        if row is not None:
            certifications.append(row)
        if notices:
            notification = notification_row(state.city_id, fact)
            if notification is not None:
                notifications.append(notification)
        state = after
    return CityFold(state, certifications, notifications)


class CityProjector:
    """The eventstore Projector of the city streams (`city-<id>`)."""

    stream_prefix = CITY_STREAM_PREFIX
    tables = TABLES

    def initial(self, stream_id: str) -> FoldedCity:
        return FoldedCity.of(CityState.initial(_city_id(stream_id)))

    def fold(self, state: FoldedCity, events: Sequence[ParsedEvent]) -> FoldedCity:
        return FoldedCity.of(fold_city(state.state, events).state)

    async def stored_state(self, conn: asyncpg.Connection, stream_id: str, version: int) -> FoldedCity | None:
        stored = await conn.fetchrow(
            "SELECT version, state FROM city_status WHERE city_id = $1", _city_id(stream_id)
        )
        if stored is None or stored["version"] != version:
            return None
        try:
            return FoldedCity.of(CityState.model_validate_json(stored["state"]))
        except ValidationError:
            return None  # a state written by older code: the store folds the stream instead

    def append_arguments(
        self, stream_id: str, before: FoldedCity, events: Sequence[ParsedEvent]
    ) -> tuple[FoldedCity, list[Any]]:
        """eventstore_append's projection arguments (rows as tuples in table column order, sent as
        composite values): the status row, new certification rows, the review queue's changes only
        (most commands touch a few of a city's dozens of items: new rows, changed rows, closed
        criteria), and the notifications to queue."""
        folded = fold_city(before.state, events, notices=True)
        after = FoldedCity.of(folded.state)
        old_queue, new_queue = before.review_queue, after.review_queue
        # version and updated_at are filled in by eventstore_append (it knows the database time).
        return after, [
            status_row(folded.state, stream_id, None),
            folded.certifications,
            [row for criterion, row in new_queue.items() if criterion not in old_queue],
            [
                row
                for criterion, row in new_queue.items()
                if criterion in old_queue and old_queue[criterion] != row
            ],
            [criterion for criterion in old_queue if criterion not in new_queue],
            folded.notifications,
        ]

    def stream_rows(
        self, stream_id: str, events: Sequence[ParsedEvent], recorded_at: datetime
    ) -> Mapping[str, list[Row]]:
        folded = fold_city(CityState.initial(_city_id(stream_id)), events)
        return {
            "city_status": [status_row(folded.state, stream_id, recorded_at)],
            "certifications": folded.certifications,
            "review_queue": review_rows(folded.state),
        }


def _city_id(stream_id: str) -> str:
    city_id = city_id_of(stream_id)
    if city_id is None:
        raise ValueError(f"{stream_id!r} is not a city stream")
    return city_id
