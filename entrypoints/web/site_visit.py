"""What the site-visit page shows: where a city's visit stands (not due yet, to schedule, scheduled
for a day, held with its findings, waived), the criteria the review decided, and which of the
visit's actions the city's phase takes.

Read from the city's log, folded with the domain's own `evolve` (committee.cycle_seen: the cycle's
items, and the visit's events, whose findings the state does not keep). Nothing here decides: the
page gives the commands through the command service and the domain says yes or no; the actions
offered are those the phase takes (domain/decider.py's `_ALLOWED`), so a refusal is the domain's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from domain import events as ev
from domain.rules import PROGRAMME_REVIEW
from domain.standard import StandardError
from domain.state import CityState, ItemStatus, Phase
from entrypoints.web.committee import FINDINGS, CycleSeen, standard_of
from entrypoints.web.dashboard import PHASES
from entrypoints.web.i18n import N_, Speaker

# The visit's states, as the page names them.
NOT_DUE, TO_SCHEDULE, SCHEDULED, HELD, WAIVED = "not_due", "to_schedule", "scheduled", "held", "waived"
# The page's actions, in the order it offers them.
SCHEDULE, RESCHEDULE, COMPLETE, WAIVE = "schedule", "reschedule", "complete", "waive"
# A criterion's row in the completion form: its value "" is no finding.
NO_FINDING = ""
CHOICES = (
    (NO_FINDING, N_("No finding")),
    (ev.SiteFinding.CONFIRM.value, N_("Confirm the decision")),
    (ev.SiteFinding.OVERTURN.value, N_("Overturn the approval")),
    (ev.SiteFinding.CLEAR.value, N_("Clear the rejection")),
)
DECISIONS = {ItemStatus.APPROVED: N_("Approved"), ItemStatus.REJECTED: N_("Rejected")}


@dataclass(frozen=True, slots=True)
class DecidedCriterion:
    """A criterion the review decided: a row of the completion form."""

    criterion_id: str
    title: str  # the standard's, in English
    decision: str  # "Approved", in the visitor's language
    approved: bool


@dataclass(frozen=True, slots=True)
class FindingShown:
    criterion: str  # "DM3 Sharing Data", in the standard's English
    finding: str
    note: str


@dataclass(frozen=True, slots=True)
class VisitPage:
    city_id: str
    name: str
    phase: str  # the phase's name, in the visitor's language
    state: str  # NOT_DUE, TO_SCHEDULE, SCHEDULED, HELD or WAIVED
    visit_date: date | None  # the day scheduled, or the day it was held
    findings: str  # as the committee wrote them; a waiver's reason
    found: list[FindingShown]
    decided: list[DecidedCriterion]
    actions: list[str]  # what the phase takes, in CHOICES' order
    per_criterion: bool  # the cycle's rules take findings per criterion (else: approvals overturned)
    applied: bool = True  # False: no cycle yet
    round_id: str | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)


def _titled(seen: CycleSeen, criterion_id: str) -> str:
    standard = standard_of(seen.cycle)
    try:
        return standard.criterion(criterion_id).title if standard else ""
    except StandardError:  # a criterion the revision no longer names: its id alone
        return ""


def visit_page(
    state: CityState, seen: CycleSeen | None, say: Speaker, *, city_id: str, round_id: str | None
) -> VisitPage:
    """The page of `city_id`'s latest cycle (`seen`, None when it never applied)."""
    _ = say.gettext
    phase = _(PHASES[state.phase][0])
    if seen is None:
        return VisitPage(city_id, state.name, phase, NOT_DUE, None, "", [], [], [], True, applied=False)
    cycle = seen.cycle
    running = state.cycle is not None and state.cycle.number == cycle.number
    per_criterion = cycle.rules >= PROGRAMME_REVIEW
    decided = [
        DecidedCriterion(
            cid, _titled(seen, cid), _(DECISIONS[item.status]), item.status is ItemStatus.APPROVED
        )
        for cid, item in cycle.items.items()
        if item.status in DECISIONS
    ]
    found: list[FindingShown] = []
    visit_date: date | None = cycle.visit_date
    findings = ""
    if seen.visit is not None:
        status = HELD
        findings = seen.visit.findings
        listed = {f.criterion_id: f for f in seen.visit.criterion_findings}
        for cid in seen.visit.overturned:  # visits recorded before findings per criterion were
            listed.setdefault(cid, ev.CriterionFinding(criterion_id=cid, finding=ev.SiteFinding.OVERTURN))
        found = [
            FindingShown(
                f"{f.criterion_id} {_titled(seen, f.criterion_id)}".strip(), _(FINDINGS[f.finding]), f.note
            )
            for f in listed.values()
        ]
        visit_date = seen.visit.visit_date or cycle.visit_date
    elif seen.waived is not None:
        status, findings = WAIVED, seen.waived.reason
    elif running and state.phase is Phase.SITE_VISIT:
        status = SCHEDULED if cycle.site_visit == "scheduled" and cycle.visit_date else TO_SCHEDULE
    else:
        status = NOT_DUE
    actions: list[str] = []
    if status == SCHEDULED:
        actions = [RESCHEDULE, COMPLETE, WAIVE]
    elif status == TO_SCHEDULE:
        # The first rules complete a visit once scheduled only; the programme's review rules also
        # record one held without being scheduled here first.
        actions = [SCHEDULE, COMPLETE, WAIVE] if per_criterion else [SCHEDULE, WAIVE]
    choices = [
        (value, _(words))
        for value, words in CHOICES
        if per_criterion or value in (NO_FINDING, ev.SiteFinding.OVERTURN.value)
    ]
    return VisitPage(
        city_id=city_id,
        name=state.name,
        phase=phase,
        state=status,
        visit_date=visit_date,
        findings=findings,
        found=found,
        decided=decided,
        actions=actions,
        per_criterion=per_criterion,
        round_id=round_id,
        choices=choices,
    )
