"""The internal round report: everything the programme's staff need about one round, during it and
after it, from the event logs of the round's cities.

Not the announcement (only certified cities, published on its date): this one names every city of
the round with its outcome, the not certified included, the score-based Honor Roll suggestion the
committee weighs, the time each city spent in each phase (and the median per phase), the deadlines
missed, the pass rate of each criterion and each reviewer's workload. `build_round_report` is pure
(the cities' logs in, the report out), so the API, the CLI and the tests get the same answer;
`load_round_report` reads the logs; `render_csv` exports one table of it.

A round is named today by the `cohort` a city applied with. A city's cycles in the round are those
that opened with it; a city that applied twice in the round (not certified, then again) is listed
by its latest cycle, while the time, the deadlines missed, the criteria and the reviewers' work
count every cycle it spent in the round.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, Field

from app.csv_cells import csv_text
from app.programme import load_programme
from domain import events as ev
from domain.honor_roll import suggested_for_honor_roll
from domain.levels import Level
from domain.policy import ProgrammePolicy
from domain.rounds import find_round
from domain.standard import Standard, StandardError, get_standard
from domain.state import AWAITING_REVIEWER, CityState, Cycle, ItemStatus, Phase, evolve
from eventstore import EventStore
from readmodel import city_stream, round_city_ids

DAY_SECONDS = 86_400.0

# The phases a city passes through inside a cycle, in the order it meets them (Phase's order).
CYCLE_PHASES = tuple(
    p
    for p in Phase
    if p
    not in {Phase.UNREGISTERED, Phase.REGISTERED, Phase.IMPORT_PROPOSED, Phase.CERTIFIED, Phase.WITHDRAWN}
)

RoundOutcome = Literal[
    "new", "elevated", "sustained", "downgraded", "not_certified", "withdrawn", "in_progress"
]


class ReportTable(StrEnum):
    """The report's tables, each exported as its own CSV."""

    CITIES = "cities"
    PHASES = "phases"
    CRITERIA = "criteria"
    REVIEWERS = "reviewers"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True)


class CityRow(_Row):
    """One city of the round: where its (latest) cycle in the round ended or stands, its score, the
    Honor Roll suggestion and the deadlines it missed."""

    city_id: str
    name: str
    country: str
    region: str | None
    cycle: int
    kind: Literal["application", "recertification"]
    standard_version: str
    previous_level: Level | None
    outcome: RoundOutcome = Field(
        description="new, elevated, sustained, downgraded (awarded), not_certified, withdrawn, or "
        "in_progress (still in a phase of the cycle)"
    )
    phase: Phase | None = Field(description="The phase the city is in while in_progress; else null")
    level: Level | None = Field(description="The level awarded; null when none was")
    committee_decision: Level | Literal["not_certified"] | None = Field(
        description="The committee's latest decision in the cycle (also while its appeal window runs)"
    )
    recommended_level: Level | None
    points: int | None = Field(description="The points of the latest recommendation")
    possible: int | None
    share: float | None = Field(
        description="The latest recommendation's share as the standard compares it with its bands "
        "(rounded to a whole percent where the standard says so)"
    )
    honor_roll_suggested: bool = Field(
        description="Not certified, with a share within the programme's Honor Roll margin of the "
        "Silver bar (or above it): the score-based suggestion the committee weighs"
    )
    appealed: bool
    started_at: datetime
    ended_at: datetime | None
    days_in_round: float = Field(description="From the application to the cycle's end (or now)")
    reviews_escalated: int
    clarifications_expired: int
    submission_overdue: int
    visit_scheduling_overdue: int
    committee_decision_overdue: int
    sla_breaches: int = Field(description="The five counts above, added up")


class CityPhases(_Row):
    """The days one city spent in each phase of its cycles in the round (phases it never entered
    are absent); `ongoing` is the phase it is in now, whose time runs on."""

    city_id: str
    days: dict[Phase, float]
    ongoing: Phase | None


class PhaseMedian(_Row):
    phase: Phase
    median_days: float | None = Field(
        description="Over the cities that finished their time in the phase; null when none did"
    )
    cities: int = Field(description="The cities that finished their time in the phase")


class SlaTotals(_Row):
    reviews_escalated: int
    clarifications_expired: int
    submission_overdue: int
    visit_scheduling_overdue: int
    committee_decision_overdue: int
    total: int
    cities_with_breaches: int


class CriterionRow(_Row):
    """One criterion over the round's cycles under its standard, in the standard's order."""

    standard_version: str
    standard_revision: int
    criterion_id: str
    title: str
    practice_area: str
    cycles: int = Field(description="The round's cycles under this standard")
    submitted: int = Field(description="Cycles that submitted evidence for it")
    approved: int
    rejected: int
    open: int = Field(description="Still awaiting a reviewer or the city's answer")
    pass_rate: float | None = Field(description="approved / (approved + rejected); null when none is decided")


class ReviewerRow(_Row):
    reviewer_id: str
    decisions: int = Field(description="Approvals and rejections they recorded in the round")
    approved: int
    rejected: int
    clarifications_requested: int
    open_items: int = Field(description="Items assigned to them still awaiting their decision")
    escalations: int = Field(description="Their decisions escalated as overdue")


class RoundReport(_Row):
    round_id: str
    generated_at: datetime = Field(description="The moment in-progress phases are counted up to")
    honor_roll_margin: float
    outcomes: dict[RoundOutcome, int]
    cities: list[CityRow]
    phases: list[CityPhases]
    phase_medians: list[PhaseMedian]
    sla: SlaTotals
    criteria: list[CriterionRow]
    reviewers: list[ReviewerRow]


# --- the pure part ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """A city's event with the moment it happened (its envelope's occurred_at)."""

    occurred_at: datetime
    event: ev.DomainEvent


@dataclass(frozen=True, slots=True)
class CityLog:
    """A city's stream, in order, from its registration."""

    city_id: str
    events: Sequence[LoggedEvent]


_OVERDUE_FIELDS: dict[type[ev.DomainEvent], str] = {
    ev.ReviewEscalated: "reviews_escalated",
    ev.ClarificationExpired: "clarifications_expired",
    ev.SubmissionOverdue: "submission_overdue",
    ev.VisitSchedulingOverdue: "visit_scheduling_overdue",
    ev.CommitteeDecisionOverdue: "committee_decision_overdue",
}
SLA_FIELDS = tuple(_OVERDUE_FIELDS.values())


@dataclass
class _ReviewerWork:
    approved: int = 0
    rejected: int = 0
    clarifications: int = 0
    open_items: int = 0
    escalations: int = 0

    def add(self, other: _ReviewerWork) -> None:
        for counter in fields(self):
            setattr(self, counter.name, getattr(self, counter.name) + getattr(other, counter.name))


@dataclass
class _CycleInRound:
    """One cycle of a city in the round, followed event by event."""

    number: int
    started_at: datetime
    since: datetime  # when the city entered the phase it is in
    cycle: Cycle  # the cycle's latest state (its last before it ended)
    seconds: defaultdict[Phase, float] = field(default_factory=lambda: defaultdict(float))
    breaches: Counter[str] = field(default_factory=Counter)
    recommendation: ev.LevelRecommended | None = None
    appealed: bool = False
    ended_at: datetime | None = None
    outcome: RoundOutcome = "in_progress"
    level: Level | None = None


def _follow(
    log: CityLog, recorded_as: frozenset[str], reviewers: dict[str, _ReviewerWork]
) -> tuple[CityState, list[_CycleInRound]]:
    """Fold the city's log, following each of its cycles in the round; the reviewers' work in
    those cycles is added to `reviewers`."""
    state = CityState.initial(log.city_id)
    cycles: list[_CycleInRound] = []
    current: _CycleInRound | None = None
    for logged in log.events:
        at, event = logged.occurred_at, logged.event
        before, state = state, evolve(state, event)
        if current is not None:
            _note(current, event, reviewers)
            left_cycle = state.cycle is None or state.cycle.number != current.number
            if left_cycle or state.phase != before.phase:
                current.seconds[before.phase] += (at - current.since).total_seconds()
                current.since = at
            if left_cycle:
                current.ended_at = at
                current.outcome, current.level = _ending(event)
                current = None
            else:
                assert state.cycle is not None
                current.cycle = state.cycle
        opened = state.cycle is not None and (
            before.cycle is None or before.cycle.number != state.cycle.number
        )
        if opened and state.cycle is not None and state.cycle.cohort in recorded_as:
            current = _CycleInRound(number=state.cycle.number, started_at=at, since=at, cycle=state.cycle)
            cycles.append(current)
    return state, cycles


Followed = tuple[CityState, list[_CycleInRound], dict[str, _ReviewerWork]]


def _followed(log: CityLog, names: frozenset[str], folds: MutableMapping[Hashable, Any] | None) -> Followed:
    """_follow of the city's log, with the reviewers' work in it apart; kept in `folds` by the
    city, its number of events and the round's names. A stream only grows, so within one store a
    city's log of that many events is that log: an event recorded re-folds its city alone. What is
    kept is never changed after (build_round_report adds the work into reviewers of its own)."""
    key = ("round_report._follow", log.city_id, len(log.events), names)
    if folds is not None and (found := folds.get(key)) is not None:
        return cast(Followed, found)
    work: dict[str, _ReviewerWork] = {}
    state, cycles = _follow(log, names, work)
    if folds is not None:
        folds[key] = (state, cycles, work)
    return state, cycles, work


def _note(cycle: _CycleInRound, event: ev.DomainEvent, reviewers: dict[str, _ReviewerWork]) -> None:
    breach = _OVERDUE_FIELDS.get(type(event))
    if breach is not None:
        cycle.breaches[breach] += 1
    match event:
        case ev.LevelRecommended():
            cycle.recommendation = event
        case ev.AppealFiled():
            cycle.appealed = True
        case ev.EvidenceApproved():
            reviewers.setdefault(event.reviewer_id, _ReviewerWork()).approved += 1
        case ev.EvidenceRejected():
            reviewers.setdefault(event.reviewer_id, _ReviewerWork()).rejected += 1
        case ev.ClarificationRequested():
            reviewers.setdefault(event.reviewer_id, _ReviewerWork()).clarifications += 1
        case ev.ReviewEscalated() if event.reviewer_id is not None:
            reviewers.setdefault(event.reviewer_id, _ReviewerWork()).escalations += 1


def _ending(event: ev.DomainEvent) -> tuple[RoundOutcome, Level | None]:
    """How a cycle ended, from the event that ended it."""
    match event:
        case ev.CertificationAwarded():
            return event.outcome.value, event.level
        case ev.CityWithdrawn():
            return "withdrawn", None
    return "not_certified", None  # CertificationCycleClosed: ended without a certification


def _standard(cycle: Cycle) -> Standard | None:
    try:
        return get_standard(cycle.standard_version, cycle.standard_revision)
    except StandardError:
        return None  # a standard no longer shipped: its criteria cannot be named


def _not_certified(c: _CycleInRound) -> bool:
    if c.outcome == "not_certified":
        return True
    return c.outcome == "in_progress" and c.cycle.decided and c.cycle.decided_level is None


def _share(c: _CycleInRound) -> float | None:
    rec = c.recommendation
    if rec is None:
        return None
    standard = _standard(c.cycle)
    if standard is None or rec.possible != len(standard.criteria):
        return rec.points / rec.possible if rec.possible else None
    return standard.compared_share(rec.points)


def _honor_roll_suggested(c: _CycleInRound, policy: ProgrammePolicy) -> bool:
    """The same rule for every city not certified (domain/honor_roll.py says why the decider's
    recorded flag is not read): by its latest recommendation's points."""
    rec, standard = c.recommendation, _standard(c.cycle)
    if not _not_certified(c) or rec is None or standard is None or rec.possible != len(standard.criteria):
        return False
    return suggested_for_honor_roll(standard, rec.points, policy.honor_roll_margin)


def _days(seconds: float) -> float:
    return round(seconds / DAY_SECONDS, 2)


def _decision(cycle: Cycle) -> Level | Literal["not_certified"] | None:
    if not cycle.decided and not cycle.appeal_decided:
        return None
    return cycle.decided_level or "not_certified"


def _city_row(state: CityState, c: _CycleInRound, policy: ProgrammePolicy, now: datetime) -> CityRow:
    rec = c.recommendation
    end = c.ended_at or now
    breaches = {name: c.breaches[name] for name in SLA_FIELDS}
    return CityRow(
        city_id=state.city_id,
        name=state.name,
        country=state.country,
        region=state.region,
        cycle=c.number,
        kind=c.cycle.kind,
        standard_version=c.cycle.standard_version,
        previous_level=c.cycle.previous_level,
        outcome=c.outcome,
        phase=state.phase if c.outcome == "in_progress" else None,
        level=c.level,
        committee_decision="not_certified" if c.outcome == "not_certified" else _decision(c.cycle),
        recommended_level=rec.level if rec else None,
        points=rec.points if rec else None,
        possible=rec.possible if rec else None,
        share=_share(c),
        honor_roll_suggested=_honor_roll_suggested(c, policy),
        appealed=c.appealed,
        started_at=c.started_at,
        ended_at=c.ended_at,
        days_in_round=_days((end - c.started_at).total_seconds()),
        sla_breaches=sum(breaches.values()),
        **breaches,
    )


def _criteria(cycles: Iterable[_CycleInRound]) -> list[CriterionRow]:
    """Each criterion of the standards the round's cycles ran under, in each standard's order."""
    by_standard: dict[tuple[str, int], list[Cycle]] = defaultdict(list)
    for c in cycles:
        by_standard[(c.cycle.standard_version, c.cycle.standard_revision)].append(c.cycle)
    rows: list[CriterionRow] = []
    for (version, revision), runs in sorted(by_standard.items()):
        try:
            standard = get_standard(version, revision)
        except StandardError:
            continue
        areas = {a.id: a.name for a in standard.practice_areas}
        for criterion in standard.criteria:
            statuses = [run.items[criterion.id].status for run in runs if criterion.id in run.items]
            approved = statuses.count(ItemStatus.APPROVED)
            rejected = statuses.count(ItemStatus.REJECTED)
            decided = approved + rejected
            rows.append(
                CriterionRow(
                    standard_version=version,
                    standard_revision=revision,
                    criterion_id=criterion.id,
                    title=criterion.title,
                    practice_area=areas.get(criterion.practice_area, criterion.practice_area),
                    cycles=len(runs),
                    submitted=len(statuses),
                    approved=approved,
                    rejected=rejected,
                    open=len(statuses) - decided,
                    pass_rate=round(approved / decided, 4) if decided else None,
                )
            )
    return rows


def _medians(phases: list[CityPhases]) -> list[PhaseMedian]:
    """The median days per phase over the cities that finished their time in it: a phase still
    running would count a stay cut short."""
    seen = [p for p in Phase if p in CYCLE_PHASES or any(p in row.days for row in phases)]
    medians = []
    for phase in seen:
        finished = [row.days[phase] for row in phases if phase in row.days and row.ongoing != phase]
        medians.append(
            PhaseMedian(
                phase=phase,
                median_days=round(statistics.median(finished), 2) if finished else None,
                cities=len(finished),
            )
        )
    return medians


def build_round_report(
    round_id: str,
    logs: Iterable[CityLog],
    *,
    policy: ProgrammePolicy,
    now: datetime,
    recorded_as: Collection[str] | None = None,
    folds: MutableMapping[Hashable, Any] | None = None,
) -> RoundReport:
    """The report of `round_id` from its cities' logs (a log of a city with no cycle in the round
    adds nothing); `now` ends the time of phases still running. `recorded_as`: the cohorts a cycle
    of the round records (its id, and those of earlier data it adopted); by default its id.
    `folds`: where each city's fold is kept between reports of ONE store (see _followed)."""
    names = frozenset(recorded_as or (round_id,))
    reviewers: dict[str, _ReviewerWork] = {}
    followed: list[tuple[CityState, list[_CycleInRound]]] = []
    for log in logs:
        state, cycles, work = _followed(log, names, folds)
        for reviewer_id, done in work.items():
            reviewers.setdefault(reviewer_id, _ReviewerWork()).add(done)
        if cycles:
            followed.append((state, cycles))
    followed.sort(key=lambda pair: pair[0].city_id)

    cities, phases = [], []
    all_cycles: list[_CycleInRound] = []
    for state, cycles in followed:
        all_cycles += cycles
        latest = cycles[-1]
        cities.append(_city_row(state, latest, policy, now))
        seconds: defaultdict[Phase, float] = defaultdict(float)
        for c in cycles:
            for phase, spent in c.seconds.items():
                seconds[phase] += spent
        ongoing = state.phase if latest.outcome == "in_progress" else None
        if ongoing is not None:
            seconds[ongoing] += (now - latest.since).total_seconds()
            for item in latest.cycle.items.values():
                if item.reviewer_id is not None and item.status in AWAITING_REVIEWER:
                    reviewers.setdefault(item.reviewer_id, _ReviewerWork()).open_items += 1
        phases.append(
            CityPhases(
                city_id=state.city_id,
                days={p: _days(seconds[p]) for p in Phase if seconds[p] > 0},
                ongoing=ongoing,
            )
        )

    totals = {name: sum(getattr(row, name) for row in cities) for name in SLA_FIELDS}
    for _, cycles in followed:  # the cities' earlier cycles in the round count too
        for c in cycles[:-1]:
            for name in SLA_FIELDS:
                totals[name] += c.breaches[name]
    outcomes: Counter[RoundOutcome] = Counter(row.outcome for row in cities)
    return RoundReport(
        round_id=round_id,
        generated_at=now,
        honor_roll_margin=policy.honor_roll_margin,
        outcomes={o: outcomes[o] for o in get_args(RoundOutcome)},
        cities=cities,
        phases=phases,
        phase_medians=_medians(phases),
        sla=SlaTotals(
            **totals,
            total=sum(totals.values()),
            cities_with_breaches=sum(
                1 for _, cycles in followed if any(sum(c.breaches.values()) for c in cycles)
            ),
        ),
        criteria=_criteria(all_cycles),
        reviewers=[
            ReviewerRow(
                reviewer_id=rid,
                decisions=work.approved + work.rejected,
                approved=work.approved,
                rejected=work.rejected,
                clarifications_requested=work.clarifications,
                open_items=work.open_items,
                escalations=work.escalations,
            )
            for rid, work in sorted(reviewers.items())
        ],
    )


# --- the CSV exports -------------------------------------------------------------------------------

# The phases table's last row, in the city_id column: parentheses are never in a city's id.
MEDIAN_ROW = "(median)"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return getattr(value, "value", value)


def _table(report: RoundReport, table: ReportTable) -> tuple[list[str], list[list[Any]]]:
    if table is ReportTable.PHASES:
        columns = [m.phase for m in report.phase_medians]
        header = ["city_id", *(f"{p.value}_days" for p in columns), "ongoing"]
        rows: list[list[Any]] = [
            [row.city_id, *(row.days.get(p) for p in columns), row.ongoing] for row in report.phases
        ]
        rows.append([MEDIAN_ROW, *(m.median_days for m in report.phase_medians), None])
        return header, rows
    models: Sequence[_Row]
    kind: type[_Row]
    match table:
        case ReportTable.CITIES:
            models, kind = report.cities, CityRow
        case ReportTable.CRITERIA:
            models, kind = report.criteria, CriterionRow
        case _:
            models, kind = report.reviewers, ReviewerRow
    header = list(kind.model_fields)
    return header, [[getattr(m, name) for name in header] for m in models]


def render_csv(report: RoundReport, table: ReportTable) -> str:
    """One table of the report as CSV (RFC 4180: CRLF line ends), a header row first; a city's name
    that would start a formula is kept as text (app/csv_cells.py)."""
    header, rows = _table(report, table)
    return csv_text(header, ([_cell(v) for v in row] for row in rows))


# --- the loader ------------------------------------------------------------------------------------

_READS_AT_ONCE = 4  # streams read concurrently: a share of the pool, not all of it


async def round_city_logs(
    store: EventStore, recorded_as: Sequence[str], *, kept: MutableMapping[Hashable, Any] | None = None
) -> list[CityLog]:
    """The event logs of the cities with a cycle in the round (recorded under any of its names).
    `kept`: where each city's log read before is kept (for ONE store): a stream only grows, so
    only the events after the kept ones are read and decoded, usually none."""
    city_ids = await round_city_ids(store, recorded_as)  # one read of the log for every name
    gate = asyncio.Semaphore(_READS_AT_ONCE)

    async def read(city_id: str) -> CityLog:
        key = ("round_city_logs", city_id)
        known = cast(CityLog | None, kept.get(key) if kept is not None else None)
        before = known.events if known is not None else ()
        async with gate:
            recorded = await store.read_stream(city_stream(city_id), from_version=len(before) + 1)
        if known is not None and not recorded:
            return known
        events = [LoggedEvent(r.occurred_at, cast(ev.DomainEvent, store.to_domain(r))) for r in recorded]
        log = CityLog(city_id, [*before, *events])
        if kept is not None:
            kept[key] = log
        return log

    return list(await asyncio.gather(*(read(city_id) for city_id in city_ids)))


async def load_round_report(
    store: EventStore, round_id: str, *, policy: ProgrammePolicy, now: datetime
) -> RoundReport:
    # The rounds from the programme stream itself: app.rounds asks this report where a round's
    # cities stand (the Honor Roll's check), so it does not import app.rounds back.
    found = find_round((await load_programme(store)).state.rounds, round_id)
    names = found.recorded_as if found is not None else (round_id,)
    logs = await round_city_logs(store, names)
    # Folding every city's stream is CPU work with no await: off the event loop (readmodel.folds).
    return await asyncio.to_thread(
        build_round_report, round_id, logs, policy=policy, now=now, recorded_as=names
    )
