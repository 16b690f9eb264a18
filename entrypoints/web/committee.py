"""What the committee's pages show: the round board (each city of a round with its recommendation,
its score per practice area, the site visit's findings and the appeals filed), a city awaiting a
decision, the Honor Roll with the score-based suggestion beside each city, and the announcement's
preview.

Read from the internal round report (app/round_report.py: the outcome, the recommendation, the
suggestion) and from each city's log, folded with the domain's own `evolve` (the cycle's items,
the visit's and the appeals' events, which the report does not keep). Nothing here decides: the
pages give the committee's commands through the command service, and the domain says yes or no.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from babel import Locale

from app.countries import country_name
from app.round_report import CityLog, CityRow, RoundReport
from domain import events as ev
from domain.levels import Level
from domain.standard import Standard, StandardError, get_standard
from domain.state import CityState, Cycle, Phase, evolve
from entrypoints.web.dashboard import LEVELS, PHASES
from entrypoints.web.i18n import N_, Speaker

OUTCOMES = {
    "new": N_("Certified for the first time"),
    "elevated": N_("Moved up a level"),
    "sustained": N_("Re-certified at its level"),
    "downgraded": N_("Moved down a level"),
    "not_certified": N_("Not certified"),
    "withdrawn": N_("Withdrew"),
    "in_progress": N_("In progress"),
}
AWARDED = frozenset({"new", "elevated", "sustained", "downgraded"})
FINDINGS = {
    ev.SiteFinding.CONFIRM: N_("Confirmed on site"),
    ev.SiteFinding.OVERTURN: N_("Overturned: the approval was not supported on site"),
    ev.SiteFinding.CLEAR: N_("Cleared: found met on site"),
}


# --- what a city's log says of one of its cycles ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppealSeen:
    filed_at: datetime
    grounds: str
    criteria: tuple[str, ...]
    decided: ev.AppealDecided | None = None


@dataclass(slots=True)
class CycleSeen:
    """One cycle of a city as its log tells it: its latest state (its last before it ended), and
    the site visit's and appeals' events in it."""

    cycle: Cycle
    visit: ev.SiteVisitCompleted | None = None
    waived: ev.SiteVisitWaived | None = None
    appeals: list[AppealSeen] = field(default_factory=list)


def cycle_seen(
    events: Iterable[tuple[datetime, ev.DomainEvent]], recorded_as: Collection[str] | None
) -> CycleSeen | None:
    """The city's latest cycle opened in a round recorded under one of `recorded_as` (its id, and
    the cohorts of earlier data it adopted; any round when None), from its log."""
    state = CityState.initial("")
    seen: CycleSeen | None = None
    following = False
    for at, event in events:
        before, state = state, evolve(state, event)
        opened = state.cycle is not None and (
            before.cycle is None or before.cycle.number != state.cycle.number
        )
        if opened and state.cycle is not None and (recorded_as is None or state.cycle.cohort in recorded_as):
            seen, following = CycleSeen(state.cycle), True
            continue
        if not following or seen is None:
            continue
        if state.cycle is None or state.cycle.number != seen.cycle.number:
            following = False  # the cycle ended: its last state stays
            continue
        seen.cycle = state.cycle
        match event:
            case ev.SiteVisitCompleted():
                seen.visit = event
            case ev.SiteVisitWaived():
                seen.waived = event
            case ev.AppealFiled():
                seen.appeals.append(AppealSeen(at, event.grounds, tuple(event.criteria)))
            case ev.AppealDecided() if seen.appeals:
                last = seen.appeals[-1]
                seen.appeals[-1] = AppealSeen(last.filed_at, last.grounds, last.criteria, event)
    return seen


def standard_of(cycle: Cycle) -> Standard | None:
    try:
        return get_standard(cycle.standard_version, cycle.standard_revision)
    except StandardError:
        return None


# --- the words and numbers a page shows ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AreaScore:
    """A practice area's points: its criteria that earn their point (prerequisites met) of all."""

    area_id: str
    name: str  # the standard's, in English
    earned: int
    criteria: int

    @property
    def share(self) -> float:
        return self.earned / self.criteria if self.criteria else 0.0


def area_scores(cycle: Cycle) -> list[AreaScore]:
    """The cycle's points per practice area, in the standard's order, as the score counts them."""
    standard = standard_of(cycle)
    if standard is None:
        return []
    earned = set(standard.earned(cycle.approved))
    return [
        AreaScore(
            area_id=area.id,
            name=area.name,
            earned=sum(1 for c in standard.criteria if c.practice_area == area.id and c.id in earned),
            criteria=sum(1 for c in standard.criteria if c.practice_area == area.id),
        )
        for area in standard.practice_areas
    ]


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the chart, in the SVG's own units."""

    label: str
    value: str  # "4 of 9"
    y: int
    width: int


CHART_WIDTH = 320  # the bars' full length: a whole practice area earned
BAR_HEIGHT = 22
BAR_GAP = 10
LABEL_WIDTH = 90


@dataclass(frozen=True, slots=True)
class Chart:
    bars: list[Bar]
    height: int
    width: int = LABEL_WIDTH + CHART_WIDTH + 90
    label_width: int = LABEL_WIDTH
    full: int = CHART_WIDTH
    bar_height: int = BAR_HEIGHT


def chart(areas: Sequence[AreaScore], say: Speaker) -> Chart:
    bars = [
        Bar(
            label=a.area_id,
            value=say.gettext(
                "{earned} of {criteria}", earned=say.number(a.earned), criteria=say.number(a.criteria)
            ),
            y=n * (BAR_HEIGHT + BAR_GAP),
            width=round(CHART_WIDTH * a.share),
        )
        for n, a in enumerate(areas)
    ]
    return Chart(bars=bars, height=max(1, len(bars) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP))


@dataclass(frozen=True, slots=True)
class CriterionFindingSeen:
    criterion: str  # "DM3 Sharing Data", in the standard's English
    finding: str
    note: str


@dataclass(frozen=True, slots=True)
class VisitSeen:
    status: str
    visit_date: datetime | None = None
    findings: str = ""  # as the committee wrote them
    criteria: list[CriterionFindingSeen] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AppealShown:
    filed_at: datetime
    grounds: str
    criteria: list[str]
    decision: str | None  # None: not decided yet
    rationale: str = ""


@dataclass(frozen=True, slots=True)
class CityCard:
    """A city as the committee's pages show it."""

    city_id: str
    name: str
    place: str  # "Lakeside, Ohio, United States"
    phase: str
    outcome: str
    recommended: str | None  # the level's name, "No level", or None: not recommended yet
    recommended_level: Level | None
    points: int | None
    possible: int | None
    share: float | None
    decision: str | None
    honor_roll_suggested: bool
    areas: list[AreaScore]
    chart: Chart
    visit: VisitSeen
    appeals: list[AppealShown]
    awaits_decision: bool  # with the committee: a level to decide
    awaits_appeal_decision: bool  # an appeal filed: the committee decides it
    appeal_contests_criteria: bool
    certified_here: bool  # awarded in this round
    level_decided: bool  # a level awarded, or decided and awaiting its award
    decide_by: datetime | None = None  # the committee's deadline, while it has a level to decide
    signed_off: bool = False  # the lead reviewer signed the recommendation off
    visit_due_or_held: bool = False  # the site-visit page has something to show or record


def _titled(standard: Standard | None, criterion_id: str) -> str:
    if standard is None:
        return criterion_id
    try:
        return f"{criterion_id} {standard.criterion(criterion_id).title}"
    except StandardError:
        return criterion_id


def _visit(seen: CycleSeen, standard: Standard | None, say: Speaker) -> VisitSeen:
    _ = say.gettext
    if seen.visit is not None:
        visit = seen.visit
        found = {f.criterion_id: f for f in visit.criterion_findings}
        for cid in visit.overturned:  # visits recorded before findings per criterion were
            found.setdefault(cid, ev.CriterionFinding(criterion_id=cid, finding=ev.SiteFinding.OVERTURN))
        return VisitSeen(
            status=_("Visited"),
            visit_date=datetime.combine(visit.visit_date, datetime.min.time()) if visit.visit_date else None,
            findings=visit.findings,
            criteria=[
                CriterionFindingSeen(_titled(standard, f.criterion_id), _(FINDINGS[f.finding]), f.note)
                for f in found.values()
            ],
        )
    if seen.waived is not None:
        return VisitSeen(status=_("Waived"), findings=seen.waived.reason)
    if seen.cycle.site_visit == "scheduled" and seen.cycle.visit_date is not None:
        day = datetime.combine(seen.cycle.visit_date, datetime.min.time())
        return VisitSeen(status=_("Scheduled for {date}", date=say.date(day)))
    return VisitSeen(status=_("Not visited yet"))


def _appeals(seen: CycleSeen, standard: Standard | None, say: Speaker) -> list[AppealShown]:
    _ = say.gettext
    shown = []
    for a in seen.appeals:
        decision = None
        if a.decided is not None:
            if not a.decided.upheld:
                decision = _("Dismissed: the decision stands")
            elif a.decided.review_again:
                decision = _("Upheld: the contested criteria go to a fresh reviewer")
            elif a.decided.level is not None:
                decision = _("Upheld: {level} granted", level=_(LEVELS[a.decided.level.value]))
            else:
                decision = _("Upheld")
        shown.append(
            AppealShown(
                filed_at=a.filed_at,
                grounds=a.grounds,
                criteria=[_titled(standard, c) for c in a.criteria],
                decision=decision,
                rationale=a.decided.rationale if a.decided else "",
            )
        )
    return shown


def _decision_words(decision: Level | str | None, say: Speaker) -> str | None:
    if decision is None:
        return None
    if isinstance(decision, Level):
        return say.gettext(LEVELS[decision.value])
    if decision == "no_level":  # a recommendation of no level
        return say.gettext("No level")
    return say.gettext("Not certified")


def _committee_due(cycle: Cycle) -> datetime | None:
    clock = cycle.clocks.get(ev.Deadline.COMMITTEE.value)
    return clock.due_at if clock is not None else None


def place_of(name: str, region: str | None, country: str, say: Speaker) -> str:
    """ "Lakeside, Ohio, United States", the country named in the visitor's language."""
    named = (Locale.parse(say.language).territories.get(country) or country_name(country)) if country else ""
    return ", ".join(p for p in (name, region, named) if p)


def card(
    seen: CycleSeen,
    *,
    city_id: str,
    name: str,
    region: str | None,
    country: str,
    phase: Phase,
    say: Speaker,
    row: CityRow | None = None,
) -> CityCard:
    """A city's card from its cycle (and its round report row, on the round board)."""
    _ = say.gettext
    cycle = seen.cycle
    standard = standard_of(cycle)
    rec = cycle.recommendation
    in_cycle = row is None or row.outcome == "in_progress"
    areas = area_scores(cycle)
    recommended = _decision_words(rec.level or "no_level", say) if rec is not None else None
    if row is not None:
        decision, share, outcome = row.committee_decision, row.share, row.outcome
    else:  # a city's own page: its cycle as it stands
        decision = (cycle.decided_level or "not_certified") if cycle.decided else None
        share = standard.compared_share(rec.points) if rec and standard else None
        outcome = "in_progress"
    return CityCard(
        city_id=city_id,
        name=name,
        place=place_of(name, region, country, say),
        phase=_(PHASES[phase][0]) if in_cycle else _(OUTCOMES[outcome]),
        outcome=_(OUTCOMES[outcome]),
        recommended=recommended,
        recommended_level=rec.level if rec else None,
        points=rec.points if rec else None,
        possible=rec.possible if rec else None,
        share=share,
        decision=_decision_words(decision, say),
        honor_roll_suggested=row.honor_roll_suggested if row is not None else False,
        areas=areas,
        chart=chart(areas, say),
        visit=_visit(seen, standard, say),
        appeals=_appeals(seen, standard, say),
        awaits_decision=in_cycle and phase is Phase.COMMITTEE,
        awaits_appeal_decision=in_cycle and phase is Phase.APPEAL,
        appeal_contests_criteria=bool(cycle.appeal_criteria),
        certified_here=outcome in AWARDED,
        level_decided=outcome in AWARDED or isinstance(decision, Level),
        decide_by=_committee_due(cycle) if in_cycle and phase is Phase.COMMITTEE else None,
        signed_off=cycle.signed_off_by is not None,
        visit_due_or_held=(in_cycle and phase is Phase.SITE_VISIT)
        or cycle.site_visit in {"completed", "waived"},
    )


@dataclass(frozen=True, slots=True)
class Board:
    cards: list[CityCard]
    awaiting: int  # cities awaiting a decision of the committee (a level or an appeal)


_NOT_KEPT = object()


def _seen(
    log: CityLog, names: frozenset[str], folds: MutableMapping[Hashable, Any] | None
) -> CycleSeen | None:
    """cycle_seen of the city's log, kept in `folds` (one store's) by the city, its number of
    events and the round's names, as app/round_report.py keeps its fold: an event recorded
    re-folds its city alone. Nothing reads a kept CycleSeen but to shape a card."""
    key = ("committee.cycle_seen", log.city_id, len(log.events), names)
    if folds is not None and (found := folds.get(key, _NOT_KEPT)) is not _NOT_KEPT:
        return cast(CycleSeen | None, found)
    seen = cycle_seen(((e.occurred_at, e.event) for e in log.events), names)
    if folds is not None:
        folds[key] = seen
    return seen


def round_board(
    report: RoundReport,
    logs: Sequence[CityLog],
    say: Speaker,
    recorded_as: Collection[str] = (),
    folds: MutableMapping[Hashable, Any] | None = None,
) -> Board:
    """Every city of the round, as the report lists them, with what its log says of its cycle
    (`recorded_as`: the cohorts the round's cycles record; by default its id; `folds`: where the
    cities' folds are kept between boards of one store)."""
    names = frozenset(recorded_as or (report.round_id,))
    by_city = {log.city_id: log for log in logs}
    cards = []
    for row in report.cities:
        log = by_city.get(row.city_id)
        seen = _seen(log, names, folds) if log else None
        if seen is None:
            continue
        cards.append(
            card(
                seen,
                city_id=row.city_id,
                name=row.name,
                region=row.region,
                country=row.country,
                phase=row.phase or Phase.REGISTERED,  # read only while the cycle runs
                say=say,
                row=row,
            )
        )
    waiting = sum(1 for c in cards if c.awaits_decision or c.awaits_appeal_decision)
    return Board(cards=cards, awaiting=waiting)


def levels_up_to(recommended: Level | None) -> list[Level]:
    """The levels the committee may decide: none above the recommendation, highest first."""
    if recommended is None:
        return []
    return sorted((lv for lv in Level if lv.rank <= recommended.rank), key=lambda lv: -lv.rank)
