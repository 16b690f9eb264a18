"""What a city's dashboard says: its phase in words, what is asked of its staff and by when, and
what it waits on from others. Read from the projection's state (readmodel.city_state) and the open
questions (readmodel.questions); the words are the portal's, the dates the state's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.events import Deadline
from domain.standard import get_standard
from domain.state import AWAITING_REVIEWER, CityState, Phase
from entrypoints.web.i18n import N_, Speaker
from readmodel.questions import OpenQuestion

PHASES: dict[Phase, tuple[str, str]] = {
    Phase.UNREGISTERED: (N_("Not registered"), N_("The city is not registered in the programme.")),
    Phase.REGISTERED: (
        N_("Registered"),
        N_("The city may take a data snapshot and apply for certification in an open round."),
    ),
    Phase.IMPORT_PROPOSED: (
        N_("Past certification being imported"),
        N_("A certification from before citycert waits for the committee's countersignature."),
    ),
    Phase.EVIDENCE: (
        N_("Gathering evidence"),
        N_("The city submits its evidence, criterion by criterion; reviewers may already decide."),
    ),
    Phase.REVIEW: (
        N_("Under review"),
        N_("The submission is closed; the reviewers are finishing their decisions."),
    ),
    Phase.SITE_VISIT: (
        N_("Site visit"),
        N_("The review is complete; the programme visits the city or records a waiver."),
    ),
    Phase.COMMITTEE: (
        N_("With the committee"),
        N_("A level is recommended; the committee decides."),
    ),
    Phase.APPEAL_WINDOW: (
        N_("Decided"),
        N_("The committee has decided; the city may accept the decision or appeal it."),
    ),
    Phase.APPEAL: (N_("Appeal filed"), N_("The committee decides the city's appeal.")),
    Phase.APPEAL_REVIEW: (
        N_("Appeal under review"),
        N_("The contested criteria are with a fresh reviewer."),
    ),
    Phase.CERTIFIED: (N_("Certified"), N_("The city holds a certification and has no cycle open.")),
    Phase.WITHDRAWN: (N_("Withdrawn"), N_("The city left the programme.")),
}

LEVELS = {"silver": N_("Silver"), "gold": N_("Gold"), "platinum": N_("Platinum")}


@dataclass(frozen=True, slots=True)
class Ask:
    """One thing asked of someone, by when (None: no date)."""

    what: str
    due_at: datetime | None = None
    criterion: str | None = None  # "DM3 Sharing Data", in the standard's English
    quote: str = ""  # a reviewer's question, as asked


@dataclass(frozen=True, slots=True)
class Dashboard:
    phase: str
    phase_explained: str
    level: str | None
    valid_until: datetime | None
    cohort: str | None
    asked: list[Ask] = field(default_factory=list)
    waiting: list[Ask] = field(default_factory=list)
    may_close_submission: bool = False  # gathering evidence: its staff may close the submission


def _soonest(asks: list[Ask]) -> list[Ask]:
    return sorted(asks, key=lambda a: (a.due_at is None, a.due_at or datetime.max))


def dashboard(state: CityState, questions: list[OpenQuestion], say: Speaker) -> Dashboard:
    _ = say.gettext
    name, explained = PHASES[state.phase]
    certification = state.certification
    cycle = state.cycle
    asked: list[Ask] = []
    waiting: list[Ask] = []
    if state.phase is Phase.REGISTERED:
        asked.append(Ask(_("Apply for certification in an open round when the city is ready.")))
    if cycle is not None:
        standard = get_standard(cycle.standard_version, cycle.standard_revision)

        def titled(criterion_id: str) -> str:
            return f"{criterion_id} {standard.criterion(criterion_id).title}"

        clocks = cycle.clocks
        if state.phase is Phase.EVIDENCE:
            submission = clocks.get(Deadline.SUBMISSION.value)
            asked.append(
                Ask(
                    _("Submit the evidence for each criterion you claim, then close the submission."),
                    submission.due_at if submission else None,
                )
            )
        for q in questions:
            asked.append(
                Ask(_("Answer the reviewer's question."), q.due_at, titled(q.criterion_id), q.question)
            )
        if state.phase is Phase.APPEAL_WINDOW:
            asked.append(Ask(_("Accept the committee's decision, or appeal it."), cycle.appeal_deadline))
        reviewing = [i for i in cycle.items.values() if i.status in AWAITING_REVIEWER]
        if reviewing:
            due = [i.review_due_at for i in reviewing if i.review_due_at is not None]
            waiting.append(
                Ask(
                    say.ngettext(
                        "The reviewers are deciding on {n} criterion.",
                        "The reviewers are deciding on {n} criteria.",
                        len(reviewing),
                    ),
                    min(due) if due else None,
                )
            )
        for deadline, words in (
            (Deadline.VISIT_SCHEDULING, N_("The programme schedules the site visit, or waives it.")),
            (Deadline.COMMITTEE, N_("The committee decides the city's level.")),
        ):
            clock = clocks.get(deadline.value)
            if clock is not None and state.phase in (Phase.SITE_VISIT, Phase.COMMITTEE):
                waiting.append(Ask(_(words), clock.due_at))
        if state.phase is Phase.APPEAL:
            waiting.append(Ask(_("The committee decides the city's appeal.")))
    elif certification is not None and state.phase is Phase.CERTIFIED:
        asked.append(
            Ask(_("Apply for re-certification before the certification ends."), certification.valid_until)
        )
    return Dashboard(
        phase=_(name),
        phase_explained=_(explained),
        level=_(LEVELS[certification.level.value]) if certification else None,
        valid_until=certification.valid_until if certification else None,
        cohort=cycle.cohort if cycle else None,
        asked=_soonest(asked),
        waiting=_soonest(waiting),
        may_close_submission=state.phase is Phase.EVIDENCE,
    )
