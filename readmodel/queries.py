"""Every read of the projection tables, as typed functions: callers never see their SQL or columns.

The rows are pydantic models, so the API answers with them as they are: a city's status is the
domain's CitySummary (the same columns a command answers with) with the time of the append that last
changed it; a review item is the review_queue row.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from domain.levels import Level
from domain.state import CityState, CitySummary, ItemStatus, Phase
from eventstore import EventStore
from readmodel.folds import load_city_state
from readmodel.projector import CityProjector, FoldedCity, city_id_of, city_stream

_REVIEW = "city_id, criterion_id, round_id, reviewer_id, status, waiting_on, due_at, escalated"
# The queues' order, which migration 0019's indexes keep (due_at ascending puts NULLs last): a
# page is read off an index in order, never sorted from every open item.
_QUEUE_ORDER = "ORDER BY due_at NULLS LAST, city_id, criterion_id LIMIT"
UNASSIGNED = "reviewer_id IS NULL AND waiting_on = 'reviewer'"  # review_queue_unassigned's predicate
# A reviewer's queue is two ordered reads merged: their assigned items (review_queue_reviewer) and
# the unassigned ones (review_queue_unassigned), each cut at the page's length. One WHERE with an
# OR would match neither index's order, and sorted every open item instead.
REVIEWERS_QUEUE = f"""
(SELECT {_REVIEW} FROM review_queue WHERE reviewer_id = $1 AND city_id <> $2 {_QUEUE_ORDER} $3)
UNION ALL
(SELECT {_REVIEW} FROM review_queue WHERE {UNASSIGNED} AND city_id <> $2 {_QUEUE_ORDER} $3)
{_QUEUE_ORDER} $3
"""


def queue_sql(*, by_reviewer: bool, by_city: bool) -> str:
    """The operators' queue, with only the filters given in its WHERE: an `$1 IS NULL OR ...` for
    each would leave a prepared statement's generic plan no index to choose by."""
    where = []
    if by_reviewer:
        where.append("reviewer_id = $1")
    if by_city:
        where.append(f"city_id = ${len(where) + 1}")
    filtered = f" WHERE {' AND '.join(where)}" if where else ""
    return f"SELECT {_REVIEW} FROM review_queue{filtered} {_QUEUE_ORDER} ${len(where) + 1}"


_CITY_ITEMS = f"SELECT {_REVIEW} FROM review_queue WHERE city_id = $1 ORDER BY criterion_id"

_COHORT_DECISIONS = """
SELECT city_id, version, outcome, level, previous_level, honor_roll
  FROM certifications WHERE round_id = $1 AND outcome <> 'imported'
 ORDER BY city_id, version
"""

_EXPIRING = """
SELECT city_id, valid_until, reminders_sent FROM city_status
 WHERE valid_until > $1 AND valid_until <= $1 + make_interval(days => $2) AND phase <> 'withdrawn'
   AND certificate_status IS DISTINCT FROM 'suspended'
 ORDER BY city_id
"""


class CityStatus(CitySummary):
    """A city's row of city_status: its summary, and when the append that last changed it was recorded."""

    updated_at: datetime


_STATUS = ", ".join(CityStatus.model_fields)
_CITY_FILTERS = (
    ("level", "level = ${}"),
    ("phase", "phase = ${}"),
    ("round_id", "round_id = ANY(${}::text[])"),
    ("only_city", "city_id = ${}"),
    ("after", "city_id > ${}"),
)


def cities_sql(given: Collection[str]) -> str:
    """The city list with only the filters `given` (names of _CITY_FILTERS; their values are the
    parameters, in _CITY_FILTERS' order) in its WHERE, then LIMIT and OFFSET. Not one statement with a
    `$n IS NULL OR ...` for each: asyncpg prepares it once, and once PostgreSQL settles on its
    generic plan, which cannot know which filters are off, a page read by its key (`after`) became a
    scan and sort of every city (bench/growth.py, 10^5 cities)."""
    present = [condition for name, condition in _CITY_FILTERS if name in given]
    where = [condition.format(n) for n, condition in enumerate(present, start=1)]
    filtered = f" WHERE {' AND '.join(where)}" if where else ""
    n = len(where)
    return f"SELECT {_STATUS} FROM city_status{filtered} ORDER BY city_id LIMIT ${n + 1} OFFSET ${n + 2}"


_CITY = f"SELECT {_STATUS} FROM city_status WHERE city_id = $1"


class ReviewItem(BaseModel):
    """An open evidence item, waiting on a reviewer or on the city until `due_at`."""

    model_config = ConfigDict(frozen=True)

    city_id: str
    criterion_id: str
    round_id: str
    reviewer_id: str | None
    status: ItemStatus
    waiting_on: Literal["reviewer", "city"]
    due_at: datetime | None
    escalated: bool


DecisionOutcome = Literal["new", "elevated", "sustained", "downgraded", "not_certified"]


@dataclass(frozen=True, slots=True)
class CohortDecision:
    """A final decision of a cycle in a cohort (imported certifications are not among them)."""

    city_id: str
    version: int  # the deciding event's version: a later one supersedes it
    outcome: DecisionOutcome
    level: Level | None
    previous_level: Level | None
    honor_roll: bool


@dataclass(frozen=True, slots=True)
class ExpiringCertification:
    """A certification ending soon, with the reminder thresholds (days before) already sent."""

    city_id: str
    valid_until: datetime
    reminders_sent: tuple[int, ...]


def _city_row(row: Any) -> CityStatus:
    return CityStatus.model_validate(dict(row))


def _review_item(row: Any) -> ReviewItem:
    return ReviewItem(
        city_id=row["city_id"],
        criterion_id=row["criterion_id"],
        round_id=row["round_id"],
        reviewer_id=row["reviewer_id"],
        status=ItemStatus(row["status"]),
        waiting_on=row["waiting_on"],
        due_at=row["due_at"],
        escalated=row["escalated"],
    )


async def list_cities(
    store: EventStore,
    *,
    level: Level | None = None,
    phase: Phase | None = None,
    round_id: str | Sequence[str] | None = None,
    only_city: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    after: str | None = None,
) -> list[CityStatus]:
    """Cities by id, filtered by each argument given; `limit` None means all of them. `round_id`
    is a round's id or every name its cycles record (app.rounds.recorded_as: adopted cohorts too).
    `after`: only the cities whose id sorts after it. A page read after the last id of the one
    before costs the same wherever it is (the key's index starts there), where an `offset` skips
    every row before it (bench/growth.py measured the last page growing with the cities)."""
    rounds = None if round_id is None else [round_id] if isinstance(round_id, str) else list(round_id)
    async with store.connection() as conn:
        values = {"level": level, "phase": phase, "round_id": rounds, "only_city": only_city, "after": after}
        given = {name: values[name] for name, _ in _CITY_FILTERS if values[name] is not None}
        rows = await conn.fetch(cities_sql(given), *given.values(), limit, offset)
    return [_city_row(row) for row in rows]


async def city_summary(store: EventStore, city_id: str) -> CityStatus | None:
    """The city's status, or None when no city of that id is registered."""
    async with store.connection() as conn:
        row = await conn.fetchrow(_CITY, city_id)
    return None if row is None else _city_row(row)


async def city_state(store: EventStore, city_id: str) -> CityState | None:
    """The city's current state: the store's cached fold when it is at the stream's version, else
    the latest state snapshot with the few events after it folded on (EventStore.projected_state;
    a pure function of the log like a fold from the first event, which verify checks every
    snapshot against); None when no city of that id is registered."""
    if not isinstance(store.projector, CityProjector):  # no snapshots: fold the whole stream
        state = await load_city_state(store, city_id)
        return state if state.version else None
    projected = await store.projected_state(city_stream(city_id))
    if projected is None:
        return None
    folded: FoldedCity = projected[1]
    return folded.state


async def reviewer_queue(
    store: EventStore, reviewer_id: str, home_city: str, *, limit: int
) -> list[ReviewItem]:
    """A reviewer's open items, soonest due first: those assigned to them (including ones waiting
    on the city's answer to their question) and the unassigned ones waiting on any reviewer; never
    those of their home city."""
    async with store.connection() as conn:
        rows = await conn.fetch(REVIEWERS_QUEUE, reviewer_id, home_city, limit)
    return [_review_item(row) for row in rows]


async def review_queue(
    store: EventStore, *, reviewer_id: str | None = None, city_id: str | None = None, limit: int
) -> list[ReviewItem]:
    """Open items of every city, soonest due first, filtered by reviewer and city if given."""
    async with store.connection() as conn:
        filters = [value for value in (reviewer_id, city_id) if value is not None]
        sql = queue_sql(by_reviewer=reviewer_id is not None, by_city=city_id is not None)
        rows = await conn.fetch(sql, *filters, limit)
    return [_review_item(row) for row in rows]


async def open_review_items(store: EventStore, city_id: str) -> list[ReviewItem]:
    """One city's open items, by criterion."""
    async with store.connection() as conn:
        rows = await conn.fetch(_CITY_ITEMS, city_id)
    return [_review_item(row) for row in rows]


async def cohort_rows(store: EventStore, cohort: str) -> list[CohortDecision]:
    """The cohort's decisions by city, then in the order they were made."""
    async with store.connection() as conn:
        rows = await conn.fetch(_COHORT_DECISIONS, cohort)
    return [
        CohortDecision(
            city_id=row["city_id"],
            version=row["version"],
            outcome=row["outcome"],
            level=None if row["level"] is None else Level(row["level"]),
            previous_level=None if row["previous_level"] is None else Level(row["previous_level"]),
            honor_roll=row["honor_roll"],
        )
        for row in rows
    ]


async def expiring_certifications(
    store: EventStore, now: datetime, within_days: int
) -> list[ExpiringCertification]:
    """Certifications of cities not withdrawn that are still valid at `now`, end within
    `within_days` days of it and are not suspended (a suspended certificate is sent no reminder,
    domain/rules.py SUSPENSIONS), by city."""
    async with store.connection() as conn:
        rows = await conn.fetch(_EXPIRING, now, within_days)
    return [
        ExpiringCertification(row["city_id"], row["valid_until"], tuple(row["reminders_sent"]))
        for row in rows
    ]


async def reviewer_loads(store: EventStore, reviewer_ids: list[str]) -> dict[str, int]:
    """How many open criteria each reviewer is assigned, across every city (0 for none): the load
    automatic assignment balances."""
    async with store.connection() as conn:
        rows = await conn.fetch(
            "SELECT reviewer_id, count(*) AS n FROM review_queue WHERE reviewer_id = ANY($1::text[]) "
            "GROUP BY reviewer_id",
            reviewer_ids,
        )
    return {rid: 0 for rid in reviewer_ids} | {r["reviewer_id"]: int(r["n"]) for r in rows}


# A round's cities: those with a cycle that opened in it, found by the events that open one. Not
# the projections: a city that withdrew mid-round (and perhaps rejoined since) is in no row of its
# round any more. The events keep the field's first name, `cohort`, for the round's id. Migration
# 0017's partial index (events_opening_cohort) serves `data ->> 'cohort'` on these two types: the
# types are written into the SQL, as the index's predicate writes them, so that every plan (a
# generic one too, which a parameter could not prove the predicate for) can use it.
_OPENINGS = (ev.ApplicationSubmitted, ev.RecertificationStarted)
assert all("cohort" in kind.model_fields for kind in _OPENINGS), "the field the query reads"
OPENING_TYPES = tuple(kind.event_type() for kind in _OPENINGS)
assert all(t.isalpha() for t in OPENING_TYPES), "names written into SQL as they are"
OPENED_UNDER = f"type IN ({', '.join(repr(t) for t in OPENING_TYPES)})"  # 0017's predicate
ROUND_STREAMS = f"""
SELECT DISTINCT stream_id FROM events WHERE {OPENED_UNDER} AND data ->> 'cohort' = ANY($1::text[])
 ORDER BY stream_id
"""


async def round_city_ids(store: EventStore, recorded_as: Sequence[str]) -> list[str]:
    """The cities with a cycle (an application or a re-certification) opened in the round under any
    of the names its cycles record (its id, the cohorts it adopted), by id."""
    async with store.connection() as conn:
        rows = await conn.fetch(ROUND_STREAMS, list(recorded_as))
    return [city_id for row in rows if (city_id := city_id_of(row["stream_id"])) is not None]


_ROUND_DECISIONS = """
SELECT city_id, version, round_id, outcome, level, previous_level, decided_at
  FROM certifications WHERE round_id = ANY($1::text[]) AND outcome <> 'imported'
 ORDER BY city_id, version
"""


@dataclass(frozen=True, slots=True)
class RoundDecision:
    """A final decision of a cycle applied to a round (the certifications row's round_id), and when it
    was made: the award day an announcement places it by (imported certifications are not among
    them)."""

    city_id: str
    version: int
    round_id: str
    outcome: DecisionOutcome
    level: Level | None
    previous_level: Level | None
    decided_at: datetime


async def round_decisions(store: EventStore, round_ids: list[str]) -> list[RoundDecision]:
    """The decisions of cycles in these rounds, by city, then in the order they were made."""
    async with store.connection() as conn:
        rows = await conn.fetch(_ROUND_DECISIONS, round_ids)
    return [
        RoundDecision(
            city_id=row["city_id"],
            version=row["version"],
            round_id=row["round_id"],
            outcome=row["outcome"],
            level=None if row["level"] is None else Level(row["level"]),
            previous_level=None if row["previous_level"] is None else Level(row["previous_level"]),
            decided_at=row["decided_at"],
        )
        for row in rows
    ]


# The cohorts cycles recorded, with the days applications were made under each and the day its
# last decision was made: what an operator's adoption of earlier data into rounds starts from.
_RECORDED_COHORTS = f"""
SELECT opened.cohort, opened.first_applied, opened.last_applied, decided.last_decided
  FROM (SELECT data ->> 'cohort' AS cohort, min(occurred_at) AS first_applied,
               max(occurred_at) AS last_applied
          FROM events WHERE {OPENED_UNDER} GROUP BY 1) opened
  LEFT JOIN (SELECT round_id, max(decided_at) AS last_decided FROM certifications
              WHERE outcome <> 'imported' GROUP BY 1) decided ON decided.round_id = opened.cohort
 ORDER BY opened.cohort
"""


async def recorded_cohorts(store: EventStore) -> list[tuple[str, datetime, datetime, datetime | None]]:
    """Every cohort a cycle opened under (its round's id, or free text before rounds were records):
    the first and last moment a city applied under it, the last decision in it (None: none yet)."""
    async with store.connection() as conn:
        rows = await conn.fetch(_RECORDED_COHORTS)
    return [(r["cohort"], r["first_applied"], r["last_applied"], r["last_decided"]) for r in rows]
