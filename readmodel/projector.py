"""The city projector: city_status, certifications, review_queue and state_snapshots, folded with
the domain's `evolve`, and the reminder notifications the events cause.

The folded state is not a column of city_status: an append writes the columns its events change the
values of (the row is small) and a snapshot of the state only at some versions (snapshot_due), so
a store without the state cached folds a few events onto the latest snapshot instead of reading a
whole state every append wrote.

`append` folds new events onto the city's state and writes the rows this projector returns, in the
same transaction; `rebuild` and `verify` fold the whole log through the same functions, so the
inline tables and a rebuild cannot drift apart by construction (and verify checks they did not).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ValidationError

from domain import events as ev
from domain.events import EVENT_TYPES, UPCASTERS
from domain.notices import NoticeKind, notice_for
from domain.programme import PROGRAMME_EVENT_TYPES
from domain.state import (
    AWAITING_REVIEWER,
    OPEN_STATUSES,
    Certification,
    CityState,
    EndedCertification,
    ReviewItemState,
    evolve,
)
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
    "reminders_sent",
    "region",
    "certificate_number",
    "certificate_status",
    "valid_from",
    "certification",
    "ended_certifications",
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
SNAPSHOT_COLUMNS = ("city_id", "version", "state")

# A snapshot of the state every SNAPSHOT_EVERY events, and at each cycle's opening and final
# decision. Why 50: a store without the state cached (a restarted worker, another process, a page
# of the portal) folds at most 49 events onto the latest snapshot, about a millisecond of CPU,
# while a snapshot (the state's 3-5 KB) is written on about one append in eight (with the cycle
# boundaries; bench/eventstore.py's histories: 180 snapshots for 1,500 appends) instead of on
# every one. The cycle boundaries are where people look back to (a
# cycle's start and its decision) and where a long quiet stretch of a certified city begins.
SNAPSHOT_EVERY = 50
_CYCLE_BOUNDARIES = (
    ev.ApplicationSubmitted,
    ev.RecertificationStarted,
    ev.CertificationAwarded,
    ev.CertificationCycleClosed,
)


def _state_as_read(stored: Any) -> Any:
    """A stored state as the projector reads it back (through the model, defaults left out): a
    state written before fields were added, or with its defaults written out, reads the same as
    a fresh fold's; one whose values were changed does not. Not a state at all: compared as it is."""
    try:
        return CityState.model_validate(stored).model_dump(mode="json", exclude_defaults=True)
    except ValidationError:
        return stored


def _as_read(model: type[BaseModel], stored: Any) -> Any:
    return model.model_validate(stored).model_dump(mode="json", exclude_defaults=True)


def _certification_as_read(stored: Any) -> Any:
    """city_status.certification as read back (through the model, defaults left out), as for the
    state: the migration copied it from states written with their defaults left out."""
    if stored is None:
        return None
    try:
        return _as_read(Certification, stored)
    except ValidationError:
        return stored


def _ended_as_read(stored: Any) -> Any:
    try:
        return [_as_read(EndedCertification, e) for e in stored]
    except (ValidationError, TypeError):
        return stored


TABLES = (
    ProjectionTable(
        "city_status",
        STATUS_COLUMNS,
        key_length=1,
        json_columns=frozenset({"certification", "ended_certifications"}),
        canonical={"certification": _certification_as_read, "ended_certifications": _ended_as_read},
    ),
    ProjectionTable("certifications", CERTIFICATION_COLUMNS, key_length=2),
    ProjectionTable("review_queue", REVIEW_COLUMNS, key_length=2),
    ProjectionTable(
        "state_snapshots",
        SNAPSHOT_COLUMNS,
        key_length=2,
        json_columns=frozenset({"state"}),
        canonical={"state": _state_as_read},
        sampled=True,
    ),
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
def status_row(
    state: CityState, stream_id: str, updated_at: datetime | None, open_items: int | None = None
) -> Row:
    """city_status: the columns people filter on (the domain's CitySummary), the reminders already
    sent, and the certification held and those that ended (what the public directory shows).

    Built from the state's fields as CityState.summary() builds the summary, without building and
    validating a CitySummary on every append (a unit test holds the two the same);
    `open_items`: the number of open review items, when the caller has them counted."""
    cycle, cert = state.cycle, state.certification
    if open_items is None:
        open_items = sum(1 for item in cycle.items.values() if item.status in OPEN_STATUSES) if cycle else 0
    score = state.score
    return (
        state.city_id,
        stream_id,
        state.version,
        state.phase,
        state.name,
        state.country,
        cert.level if cert else None,
        cert.valid_until if cert else None,
        cycle.cohort if cycle else (cert.cohort if cert else None),
        cycle.standard_version if cycle else (cert.standard_version if cert else None),
        cycle.number if cycle else None,
        None if score is None else float(score),
        cycle.recommendation.level if cycle and cycle.recommendation else None,
        open_items,
        updated_at,
        list(cert.reminders_sent) if cert else [],
        state.region,
        cert.number if cert else None,
        cert.status if cert else None,
        cert.valid_from if cert else None,
        _certification_json(cert),
        _ended_json(state.ended_certifications),
    )


# The certification's JSON by the object itself: evolve keeps an unchanged value as the same object,
# and most appends change neither, so each is encoded once per change, not once per append. Keyed by
# id() with the object kept alive beside its text, so an id is never reused while it is a key.
_ENCODED: dict[int, tuple[object, str | None]] = {}
_ENCODED_KEPT = 4096


def _encoded(value: Any, encode: Callable[[Any], str | None]) -> str | None:
    hit = _ENCODED.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1]
    text = encode(value)
    if len(_ENCODED) >= _ENCODED_KEPT:
        _ENCODED.clear()
    _ENCODED[id(value)] = (value, text)
    return text


def _certification_json(certification: Certification | None) -> str | None:
    if certification is None:
        return None
    return _encoded(certification, lambda c: c.model_dump_json(exclude_defaults=True))


def _ended_json(ended: tuple[EndedCertification, ...]) -> str:
    if not ended:
        return "[]"
    text = _encoded(ended, lambda e: json.dumps([_as_read(EndedCertification, x) for x in e]))
    assert text is not None
    return text


def snapshot_due(fact: ParsedEvent) -> bool:
    """Whether the state after this event is one the store keeps a snapshot of."""
    return fact.version % SNAPSHOT_EVERY == 0 or isinstance(fact.event, _CYCLE_BOUNDARIES)


def snapshot_row(state: CityState) -> Row:
    """state_snapshots: the state as of its version, defaults left out (read back only through the
    model, which restores them; less than half the size)."""
    return (state.city_id, state.version, state.model_dump_json(exclude_defaults=True))


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
    return [
        _review_row(state.city_id, cycle.cohort, item)
        for item in cycle.items.values()
        if item.status in OPEN_STATUSES
    ]


def _review_row(city_id: str, round_id: str, item: ReviewItemState) -> Row:
    on_reviewer = item.status in AWAITING_REVIEWER
    return (
        city_id,
        item.criterion_id,
        round_id,
        item.reviewer_id,
        item.status,
        "reviewer" if on_reviewer else "city",
        item.review_due_at if on_reviewer else item.clarification_due_at,
        item.is_escalated,
    )


# json.dumps(..., sort_keys=True)'s text, from one encoder rather than one built per notice.
_NOTICE_ENCODER = json.JSONEncoder(sort_keys=True)


def notification_row(city_id: str, fact: ParsedEvent) -> Row | None:
    """notification_outbox: the notice an event gives people (domain/notices.py), queued by the
    append that records the event (created_at is the append's); None for an event nobody hears of."""
    notice = notice_for(fact.event)  # type: ignore[arg-type]  # the registry's domain events
    if notice is None:
        return None
    payload = _NOTICE_ENCODER.encode(notice.model_dump(mode="json", exclude_defaults=True))
    return (fact.event_id, city_id, notice.kind.value, payload, None, 0, None)


@dataclass(frozen=True, slots=True)
class FoldedCity:
    """A city's state with its review queue rows by criterion (what the next append diffs against),
    and what those rows were made from: the current cycle's items and round."""

    state: CityState
    review_queue: dict[str, Row]
    basis: tuple[Mapping[str, ReviewItemState], str] | None = None

    @classmethod
    def of(cls, state: CityState) -> FoldedCity:
        cycle = state.cycle
        basis = None if cycle is None else (cycle.items, cycle.cohort)
        return cls(state, {row[1]: row for row in review_rows(state)}, basis)

    def then(self, state: CityState) -> tuple[FoldedCity, QueueChanges]:
        """The city at `state` (this one's, later in the stream), and how its review queue changed.

        Only the items that changed are looked at: evolve keeps an item it did not change as the
        same object, and the items of a cycle whose items did not change as the same mapping, so an
        item that is the same object as in this city's basis has the same row (a row is a function
        of the item, the city and the cycle's round). Rows are remade from scratch when the cycle or
        its round changed. Rebuild and verify make every row from scratch (review_rows): they
        would show a row this missed."""
        cycle, basis = state.cycle, self.basis
        if cycle is None or basis is None or cycle.cohort != basis[1]:
            after = FoldedCity.of(state)
            return after, _queue_changes(self.review_queue, after.review_queue)
        old_items, round_id = basis
        items = cycle.items
        if items is old_items:
            return FoldedCity(state, self.review_queue, basis), _NO_CHANGES
        queue = dict(self.review_queue)
        new: list[Row] = []
        changed: list[Row] = []
        closed: list[str] = []
        touched = [cid for cid, item in items.items() if old_items.get(cid) is not item]
        touched.extend(cid for cid in old_items if cid not in items)
        for cid in touched:
            item = items.get(cid)
            before = queue.get(cid)
            if item is not None and item.status in OPEN_STATUSES:
                row = _review_row(state.city_id, round_id, item)
                queue[cid] = row
                if before is None:
                    new.append(row)
                elif before != row:
                    changed.append(row)
            elif before is not None:
                del queue[cid]
                closed.append(cid)
        return FoldedCity(state, queue, (items, round_id)), QueueChanges(new, changed, closed)


@dataclass(frozen=True, slots=True)
class QueueChanges:
    """A review queue's changes between two states: rows new, rows changed, criteria closed."""

    new: list[Row]
    changed: list[Row]
    closed: list[str]


_NO_CHANGES = QueueChanges([], [], [])


def _queue_changes(old: Mapping[str, Row], new: Mapping[str, Row]) -> QueueChanges:
    return QueueChanges(
        [row for criterion, row in new.items() if criterion not in old],
        [row for criterion, row in new.items() if criterion in old and old[criterion] != row],
        [criterion for criterion in old if criterion not in new],
    )


@dataclass(slots=True)
class CityFold:
    """Facts folded onto a city's state: the new state, and the decisions, reminders and snapshots
    met."""

    state: CityState
    certifications: list[Row]
    notifications: list[Row]
    snapshots: list[Row]


def fold_city(
    state: CityState,
    facts: Iterable[ParsedEvent],
    *,
    notices: bool = False,
    snapshots: bool = False,
    snapshots_at: Collection[int] | None = None,
) -> CityFold:
    """With `notices`, also the notifications the facts queue: only an append queues them, so a
    fold, a rebuild or a verify does not spend a notice per event (bench/eventstore.py: rebuild
    58,600 -> 48,600 events/s when every fold made them). With `snapshots`, the snapshot rows due
    among the facts (snapshot_due); with `snapshots_at`, the rows at exactly those versions instead
    (what verify compares the stored ones with)."""
    certifications, notifications, snapshot_rows = [], [], []
    for fact in facts:
        after = evolve(state, fact.event)  # type: ignore[arg-type]  # the registry's domain events
        row = certification_row(state, fact, after)
        if row is not None:
            certifications.append(row)
        if notices:
            notification = notification_row(state.city_id, fact)
            if notification is not None:
                notifications.append(notification)
        if (fact.version in snapshots_at) if snapshots_at is not None else (snapshots and snapshot_due(fact)):
            snapshot_rows.append(snapshot_row(after))
        state = after
    return CityFold(state, certifications, notifications, snapshot_rows)


class CityProjector:
    """The eventstore Projector of the city streams (`city-<id>`)."""

    stream_prefix = CITY_STREAM_PREFIX
    tables = TABLES

    def initial(self, stream_id: str) -> FoldedCity:
        return FoldedCity.of(CityState.initial(_city_id(stream_id)))

    def fold(self, state: FoldedCity, events: Sequence[ParsedEvent]) -> FoldedCity:
        return state.then(fold_city(state.state, events).state)[0]

    async def stored_state(
        self, conn: asyncpg.Connection, stream_id: str, version: int
    ) -> tuple[int, FoldedCity] | None:
        """The latest snapshot at or below `version`, with its version; None when there is none, or
        it does not read as a state (written by much older code): the store folds the stream."""
        row = await conn.fetchrow(_LATEST_SNAPSHOT, _city_id(stream_id), version)
        if row is None:
            return None
        try:
            return row["version"], FoldedCity.of(CityState.model_validate_json(row["state"]))
        except ValidationError:
            return None

    def append_arguments(
        self, stream_id: str, before: FoldedCity, events: Sequence[ParsedEvent]
    ) -> tuple[FoldedCity, list[Any]]:
        """eventstore_append's projection arguments (rows as tuples in table column order, sent as
        composite values): the status row, new certification rows, the review queue's changes only
        (most commands touch a few of a city's dozens of items: new rows, changed rows, closed
        criteria), the notifications to queue and the snapshots due."""
        folded = fold_city(before.state, events, notices=True, snapshots=True)
        after, queue = before.then(folded.state)
        # version and updated_at are filled in by eventstore_append (it knows the database time).
        # An empty list goes as NULL, which eventstore_append takes for none: the driver checks
        # an array's every level for nested arrays, in Python, even when it is empty.
        return after, [
            status_row(folded.state, stream_id, None, len(after.review_queue)),
            folded.certifications or None,
            queue.new or None,
            queue.changed or None,
            queue.closed or None,
            folded.notifications or None,
            folded.snapshots or None,
        ]

    def stream_rows(
        self,
        stream_id: str,
        events: Sequence[ParsedEvent],
        recorded_at: datetime,
        sampled: Mapping[str, Mapping[Any, Collection[int]]] | None = None,
    ) -> Mapping[str, list[Row]]:
        city_id = _city_id(stream_id)
        at = None if sampled is None else sampled.get("state_snapshots", {}).get(city_id, ())
        folded = fold_city(CityState.initial(city_id), events, snapshots=True, snapshots_at=at)
        return {
            "city_status": [status_row(folded.state, stream_id, recorded_at)],
            "certifications": folded.certifications,
            "review_queue": review_rows(folded.state),
            "state_snapshots": folded.snapshots,
        }


_LATEST_SNAPSHOT = """
SELECT version, state FROM state_snapshots WHERE city_id = $1 AND version <= $2
 ORDER BY version DESC LIMIT 1
"""


def _city_id(stream_id: str) -> str:
    city_id = city_id_of(stream_id)
    if city_id is None:
        raise ValueError(f"{stream_id!r} is not a city stream")
    return city_id
