"""One city's state, folded from its events by `evolve`.

The state is a plain, JSON-serialisable value: the workflow carries it across continue-as-new,
projections store it, and `verify` compares a stored copy with a fresh fold.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from domain import events as ev
from domain.certificates import certificate_number
from domain.ids import CriterionId
from domain.levels import Level
from domain.policy import SNAPSHOTS_REMEMBERED
from domain.rules import FIRST, PROGRAMME_REVIEW


class Phase(StrEnum):
    UNREGISTERED = "unregistered"
    REGISTERED = "registered"  # eligible; may take a snapshot or apply
    IMPORT_PROPOSED = "import_proposed"  # an import waits for a committee countersignature
    EVIDENCE = "evidence"  # applied; the city submits evidence, reviewers may already decide
    REVIEW = "review"  # submission closed; reviewers finish the open items
    SITE_VISIT = "site_visit"  # review complete; a visit is held or waived
    COMMITTEE = "committee"  # a level is recommended; the committee decides
    APPEAL_WINDOW = "appeal_window"  # decided; the city may appeal until the deadline
    APPEAL = "appeal"  # appeal filed; the committee decides it
    CERTIFIED = "certified"  # holds a certification and has no cycle open
    WITHDRAWN = "withdrawn"  # left the programme; nothing more is accepted
    # An upheld appeal sent contested criteria to a fresh reviewer; once they are decided, the
    # score is recomputed and a new recommendation goes to the committee.
    APPEAL_REVIEW = "appeal_review"


class ItemStatus(StrEnum):
    SUBMITTED = "submitted"
    CLARIFICATION_REQUESTED = "clarification_requested"
    CLARIFICATION_ANSWERED = "clarification_answered"
    APPROVED = "approved"
    REJECTED = "rejected"


# Items a reviewer still has to decide, and items waiting for the city's answer.
AWAITING_REVIEWER = frozenset({ItemStatus.SUBMITTED, ItemStatus.CLARIFICATION_ANSWERED})
OPEN_STATUSES = AWAITING_REVIEWER | {ItemStatus.CLARIFICATION_REQUESTED}


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """pydantic's model_copy, the same result without its three copy.copy calls: evolve makes
        two or three copies per event (issue 13: a fifth of the append's fold). A value has no
        extra fields (extra="forbid") and no private attributes, so a copy with `update` is its
        fields merged and the fields set widened, as pydantic does (tests/unit/domain/test_state_copy.py)."""
        if deep or not update or self.__pydantic_private__ is not None:
            return super().model_copy(update=update, deep=deep)
        copied = self.__class__.__new__(self.__class__)
        _set = object.__setattr__
        _set(copied, "__dict__", {**self.__dict__, **update})
        _set(copied, "__pydantic_extra__", None)
        _set(copied, "__pydantic_fields_set__", self.__pydantic_fields_set__ | update.keys())
        _set(copied, "__pydantic_private__", None)
        return copied


class ReviewItemState(_Value):
    criterion_id: CriterionId
    status: ItemStatus
    reviewer_id: str | None = None
    review_due_at: datetime | None = None  # while awaiting a reviewer
    clarification_due_at: datetime | None = None  # while awaiting the city
    escalated: bool = False  # escalated for good (the first rules escalate an item once ever)
    # Escalations of the reviewer's decision since it was last assigned, extended or answered
    # (the programme's review rules escalate again each time the SLA passes).
    escalations: int = 0
    submission: int = 1  # the criterion's submissions in this cycle so far
    warned_for: datetime | None = None  # the due date its people were last told is near
    # The worksheet (domain/worksheet.py), by 1-based position in the criterion: the checklist items
    # the city claims, the required-document slots holding a document in the submission under
    # review (its clarification answers' documents included), and an approval's items found met and
    # override. The documents themselves stay in the log (readmodel.worksheet reads them).
    claims: tuple[int, ...] = ()
    filled_slots: tuple[int, ...] = ()
    checklist_met: tuple[int, ...] = ()
    override: str = ""
    # Whether a clarification of this criterion expired in this cycle, and how many times it was
    # submitted again since (ProgrammePolicy.resubmissions_after_expiry bounds them).
    clarification_expired: bool = False
    resubmitted_after_expiry: int = 0
    # Who decided it before an upheld appeal sent it to a fresh reviewer: never one of them again.
    earlier_reviewers: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_escalated(self) -> bool:
        """Whether the reviewer's decision is overdue and was escalated (once or again)."""
        return self.escalated or self.escalations > 0


class PhaseClock(_Value):
    """A phase's deadline (submission, visit scheduling, committee) and what its people were told:
    the due date they were told is near, and the one escalated once passed (an extension gives a
    new due date, so both come again)."""

    due_at: datetime
    warned_for: datetime | None = None
    escalated_for: datetime | None = None


class Recommendation(_Value):
    points: int
    possible: int
    score: float
    level: Level | None
    honor_roll: bool


class Cycle(_Value):
    """One application (or re-certification) from its start to its award or closure."""

    number: int
    kind: Literal["application", "recertification"]
    cohort: str
    standard_version: str
    previous_level: Level | None
    standard_revision: int = 1
    rules: int = FIRST  # the decision rules the cycle runs under (domain/rules.py)
    items: dict[CriterionId, ReviewItemState] = {}
    submission_closed: bool = False
    review_points: int | None = None
    review_score: float | None = None
    site_visit: Literal["pending", "scheduled", "completed", "waived"] = "pending"
    visit_date: date | None = None
    overturned: tuple[CriterionId, ...] = ()
    recommendation: Recommendation | None = None
    decided: bool = False
    decided_level: Level | None = None
    appeal_deadline: datetime | None = None
    appeal_filed: bool = False
    appeal_decided: bool = False
    # The phases' clocks by deadline (events.Deadline's values): cycles under the programme's
    # review rules only.
    clocks: dict[str, PhaseClock] = {}
    # Reviewers (domain/assignment.py): who takes each practice area, the lead reviewer (who may
    # decide any item and signs off the levels that need it), who declared no conflict with the
    # city, who declared one (and why), and who signed off the recommendation.
    area_reviewers: dict[str, str] = {}
    lead_reviewer_id: str | None = None
    no_conflict_declared: tuple[str, ...] = ()
    conflicts_declared: dict[str, str] = {}
    signed_off_by: str | None = None
    # What the appeal contests (criteria, and evidence for them); empty: the decision alone.
    appeal_criteria: tuple[CriterionId, ...] = ()
    appeal_evidence: tuple[ev.AppealEvidence, ...] = ()
    # Set once an upheld appeal sent criteria to a fresh reviewer: the committee's next decision
    # on the new recommendation is final (no second appeal window).
    appeal_reviewed: bool = False
    # The certification held when it opened ended while it ran (lapsed, revoked): its decision
    # then compares with no level held (ROUNDS rules).
    certification_ended: bool = False

    @property
    def open_items(self) -> list[ReviewItemState]:
        return [item for item in self.items.values() if item.is_open]

    @property
    def approved(self) -> list[str]:
        return [cid for cid, item in self.items.items() if item.status is ItemStatus.APPROVED]


class Certification(_Value):
    level: Level
    cohort: str  # the round's id
    standard_version: str
    valid_from: datetime
    valid_until: datetime
    imported: bool = False
    reminders_sent: tuple[int, ...] = ()
    score: float | None = None  # the cycle's recommended score (None for an imported one)
    number: str | None = None  # the certificate's (domain/certificates.py)
    # The rules of the cycle that awarded it: under ROUNDS and after, its every end is a
    # CertificationEnded (recorded histories keep the ends they had).
    rules: int = FIRST
    suspended_because: str | None = None  # suspended by the programme, for this reason

    @property
    def suspended(self) -> bool:
        return self.suspended_because is not None

    @property
    def status(self) -> Literal["valid", "suspended"]:
        return "suspended" if self.suspended else "valid"


class EndedCertification(_Value):
    """A certification the city held under the ROUNDS rules and that ended: why and when."""

    level: Level
    cohort: str
    standard_version: str
    valid_from: datetime
    valid_until: datetime
    number: str | None
    ended_at: datetime
    reason: ev.EndReason
    detail: str = ""


class ImportProposal(_Value):
    """A certification proposed for import, not held until a committee member countersigns it."""

    level: Level
    cohort: str
    standard_version: str
    valid_from: datetime
    valid_until: datetime
    proposed_by: str


class PastCertification(_Value):
    """A certification held before citycert, expired, imported as history."""

    level: Level
    cohort: str
    standard_version: str
    valid_from: datetime
    valid_until: datetime
    imported_by: str


class Snapshot(_Value):
    standard_version: str
    standard_revision: int = 1
    points: int
    score: float
    indicative_level: Level | None
    roadmap: tuple[CriterionId, ...]
    # Roadmap criteria blocked by unmet prerequisites, and which (DataSnapshotTaken.blocked_by).
    blocked_by: dict[CriterionId, tuple[CriterionId, ...]] = Field(default_factory=dict)


class CitySummary(_Value):
    """Where a city stands, in the columns people filter and show: the city_status projection's
    row, and what a command answers with (the whole state is far larger)."""

    city_id: str
    version: int
    phase: Phase
    name: str
    country: str
    level: Level | None
    valid_until: datetime | None
    round_id: str | None
    standard_version: str | None
    cycle: int | None
    score: float | None
    recommended_level: Level | None
    open_review_items: int
    region: str | None = None
    certificate_number: str | None = None
    certificate_status: Literal["valid", "suspended"] | None = None
    valid_from: datetime | None = None


class CityState(_Value):
    city_id: str
    version: int = 0  # events folded so far: the stream's expected version for the next append
    phase: Phase = Phase.UNREGISTERED
    name: str = ""
    country: str = ""
    population: int = 0
    cycles_started: int = 0
    cycle: Cycle | None = None
    certification: Certification | None = None
    snapshot: Snapshot | None = None
    # When the latest snapshots were taken (at most SNAPSHOTS_REMEMBERED), for the daily limit.
    snapshots_taken_at: tuple[datetime, ...] = ()
    withdrawn_reason: str | None = None
    import_proposal: ImportProposal | None = None
    region: str | None = None
    population_source: str | None = None
    population_year: int | None = None
    past_certifications: tuple[PastCertification, ...] = ()
    ended_certifications: tuple[EndedCertification, ...] = ()
    # When its latest cycle closed without a certification (ROUNDS rules): the waiting period
    # before applying again (ProgrammePolicy.reapply_wait) counts from here.
    not_certified_at: datetime | None = None

    @classmethod
    def initial(cls, city_id: str) -> CityState:
        return cls(city_id=city_id)

    @property
    def level(self) -> Level | None:
        return self.certification.level if self.certification else None

    @property
    def score(self) -> float | None:
        """The latest score: the open cycle's (recommendation, else review), else the one the held
        certification was awarded on, else the self-assessment's."""
        if self.cycle and self.cycle.recommendation:
            return self.cycle.recommendation.score
        if self.cycle and self.cycle.review_score is not None:
            return self.cycle.review_score
        if self.certification and self.certification.score is not None:
            return self.certification.score
        return self.snapshot.score if self.snapshot else None

    @property
    def recommended_level(self) -> Level | None:
        rec = self.cycle.recommendation if self.cycle else None
        return rec.level if rec else None

    def summary(self) -> CitySummary:
        cycle, cert = self.cycle, self.certification
        return CitySummary(
            city_id=self.city_id,
            version=self.version,
            phase=self.phase,
            name=self.name,
            country=self.country,
            level=cert.level if cert else None,
            valid_until=cert.valid_until if cert else None,
            round_id=cycle.cohort if cycle else (cert.cohort if cert else None),
            standard_version=cycle.standard_version if cycle else (cert.standard_version if cert else None),
            cycle=cycle.number if cycle else None,
            score=self.score,
            recommended_level=self.recommended_level,
            open_review_items=len(cycle.open_items) if cycle else 0,
            region=self.region,
            certificate_number=cert.number if cert else None,
            certificate_status=cert.status if cert else None,
            valid_from=cert.valid_from if cert else None,
        )

    @property
    def latest_past_certification(self) -> PastCertification | None:
        return max(self.past_certifications, key=lambda c: c.valid_until, default=None)


def _certificate_number(city_id: str, event: ev.CertificationAwarded | ev.CertificationImported) -> str:
    """The certificate's number: as the award recorded it, else (an award before the ROUNDS rules,
    an import) derived from what the event recorded, the same way every time."""
    if isinstance(event, ev.CertificationAwarded):
        return event.certificate_number or certificate_number(city_id, event.valid_from, event.cycle)
    return certificate_number(city_id, event.valid_from, None)


def _with_item(cycle: Cycle, criterion_id: str, **changes: object) -> Cycle:
    items = dict(cycle.items)
    items[criterion_id] = items[criterion_id].model_copy(update=changes)
    return cycle.model_copy(update={"items": items})


def _extended(cycle: Cycle, event: ev.DeadlineExtended) -> Cycle:
    """The cycle with the deadline moved: its people are told near it and escalated after it anew."""
    match event.deadline:
        case ev.Deadline.REVIEW:
            assert event.criterion_id is not None
            return _with_item(
                cycle, event.criterion_id, review_due_at=event.due_at, escalated=False, escalations=0
            )
        case ev.Deadline.CLARIFICATION:
            assert event.criterion_id is not None
            return _with_item(cycle, event.criterion_id, clarification_due_at=event.due_at)
    clocks = {**cycle.clocks, event.deadline.value: PhaseClock(due_at=event.due_at)}
    return cycle.model_copy(update={"clocks": clocks})


def _clock_told(cycle: Cycle, event: ev.DomainEvent) -> Cycle:
    """The cycle with a phase clock's people told it is near, or escalated once it passed."""
    for deadline, kind in ev.DUE_SOON.items():
        if isinstance(event, kind):
            clock = cycle.clocks[deadline.value].model_copy(update={"warned_for": event.due_at})
            return cycle.model_copy(update={"clocks": {**cycle.clocks, deadline.value: clock}})
    for deadline, late in ev.OVERDUE.items():
        if isinstance(event, late):
            clock = cycle.clocks[deadline.value].model_copy(update={"escalated_for": event.was_due_at})
            return cycle.model_copy(update={"clocks": {**cycle.clocks, deadline.value: clock}})
    raise TypeError(f"not a phase clock's event: {type(event).__name__}")


def _slots(documents: list[ev.Document]) -> tuple[int, ...]:
    return tuple(sorted({d.slot for d in documents if d.slot is not None}))


def _without_reviewer(cycle: Cycle, reviewer_id: str, reason: str) -> Cycle:
    """The cycle once the reviewer declared a conflict: their open items and practice areas wait
    for another reviewer, they are no longer its lead, and their no-conflict declaration is void."""
    items = {
        cid: item.model_copy(update={"reviewer_id": None})
        if item.is_open and item.reviewer_id == reviewer_id
        else item
        for cid, item in cycle.items.items()
    }
    return cycle.model_copy(
        update={
            "items": items,
            "area_reviewers": {a: r for a, r in cycle.area_reviewers.items() if r != reviewer_id},
            "lead_reviewer_id": None if cycle.lead_reviewer_id == reviewer_id else cycle.lead_reviewer_id,
            "no_conflict_declared": tuple(r for r in cycle.no_conflict_declared if r != reviewer_id),
            "conflicts_declared": {**cycle.conflicts_declared, reviewer_id: reason},
        }
    )


def evolve(state: CityState, event: ev.DomainEvent) -> CityState:
    """Fold one event. Pure; never refuses (the decider already did), so old histories always fold."""
    updates = _changes(state, event)
    updates["version"] = state.version + 1
    return state.model_copy(update=updates)


def fold(state: CityState, events: list[ev.DomainEvent]) -> CityState:
    for event in events:
        state = evolve(state, event)
    return state


def _changes(state: CityState, event: ev.DomainEvent) -> dict[str, object]:
    cycle = state.cycle
    match event:
        case ev.CityRegistered():
            return {
                "phase": Phase.REGISTERED,
                "name": event.name,
                "country": event.country,
                "population": event.population,
                "region": event.region,
                "population_source": event.population_source,
                "population_year": event.population_year,
            }
        case ev.CityProfileCorrected():
            fields = ("name", "population", "population_source", "population_year", "region")
            return {f: getattr(event, f) for f in fields if getattr(event, f) is not None}
        case ev.DataSnapshotTaken():
            return {
                "snapshot": Snapshot(
                    standard_version=event.standard_version,
                    standard_revision=event.standard_revision or 1,
                    points=event.points,
                    score=event.score,
                    indicative_level=event.indicative_level,
                    roadmap=tuple(event.roadmap),
                    blocked_by={cid: tuple(ps) for cid, ps in event.blocked_by.items()},
                ),
                "snapshots_taken_at": (
                    (*state.snapshots_taken_at, event.taken_at)[-SNAPSHOTS_REMEMBERED:]
                    if event.taken_at
                    else state.snapshots_taken_at
                ),
            }
        case ev.ApplicationSubmitted() | ev.RecertificationStarted():
            recert = isinstance(event, ev.RecertificationStarted)
            return {
                "phase": Phase.EVIDENCE,
                "cycles_started": event.cycle,
                "cycle": Cycle(
                    number=event.cycle,
                    kind="recertification" if recert else "application",
                    cohort=event.cohort,
                    standard_version=event.standard_version,
                    previous_level=event.previous_level
                    if isinstance(event, ev.RecertificationStarted)
                    else None,
                    standard_revision=event.standard_revision or 1,
                    rules=event.rules or FIRST,
                ),
            }
        case ev.EvidenceSubmitted():
            assert cycle is not None
            items = dict(cycle.items)
            before = items.get(event.criterion_id)
            expired = before is not None and before.clarification_expired
            items[event.criterion_id] = ReviewItemState(
                criterion_id=event.criterion_id,
                status=ItemStatus.SUBMITTED,
                # A resubmission after a rejection goes back to the reviewer who saw it first.
                reviewer_id=before.reviewer_id if before else None,
                review_due_at=event.review_due_at,
                submission=event.submission or (before.submission + 1 if before else 1),
                claims=tuple(event.claims),
                filled_slots=_slots(event.documents),
                clarification_expired=expired,
                resubmitted_after_expiry=(before.resubmitted_after_expiry + 1 if expired and before else 0),
                earlier_reviewers=before.earlier_reviewers if before else (),
            )
            return {"cycle": cycle.model_copy(update={"items": items})}
        case ev.EvidenceSubmissionClosed():
            assert cycle is not None
            return {"phase": Phase.REVIEW, "cycle": cycle.model_copy(update={"submission_closed": True})}
        case ev.ReviewerAssigned():
            assert cycle is not None
            # Under the programme's review rules a (re)assignment starts a new SLA, escalated
            # again if it passes; under the first rules an item was escalated once ever.
            fresh = {"escalated": False, "escalations": 0} if cycle.rules >= PROGRAMME_REVIEW else {}
            return {
                "cycle": _with_item(
                    cycle,
                    event.criterion_id,
                    reviewer_id=event.reviewer_id,
                    review_due_at=event.due_at,
                    **fresh,
                )
            }
        case ev.EvidenceApproved():
            assert cycle is not None
            return {
                "cycle": _with_item(
                    cycle,
                    event.criterion_id,
                    status=ItemStatus.APPROVED,
                    reviewer_id=event.reviewer_id,
                    review_due_at=None,
                    checklist_met=tuple(event.checklist_met),
                    override=event.override,
                )
            }
        case ev.EvidenceRejected():
            assert cycle is not None
            return {
                "cycle": _with_item(
                    cycle,
                    event.criterion_id,
                    status=ItemStatus.REJECTED,
                    reviewer_id=event.reviewer_id,
                    review_due_at=None,
                )
            }
        case ev.ClarificationRequested():
            assert cycle is not None
            return {
                "cycle": _with_item(
                    cycle,
                    event.criterion_id,
                    status=ItemStatus.CLARIFICATION_REQUESTED,
                    reviewer_id=event.reviewer_id,
                    review_due_at=None,
                    clarification_due_at=event.due_at,
                )
            }
        case ev.ClarificationAnswered():
            assert cycle is not None
            filled = cycle.items[event.criterion_id].filled_slots
            return {
                "cycle": _with_item(
                    cycle,
                    event.criterion_id,
                    status=ItemStatus.CLARIFICATION_ANSWERED,
                    clarification_due_at=None,
                    review_due_at=event.review_due_at,
                    escalated=False,
                    escalations=0,
                    filled_slots=tuple(sorted({*filled, *_slots(event.documents)})),
                )
            }
        case ev.ClarificationExpired():
            assert cycle is not None
            return {
                "cycle": _with_item(
                    cycle,
                    event.criterion_id,
                    status=ItemStatus.REJECTED,
                    clarification_due_at=None,
                    clarification_expired=True,
                )
            }
        case ev.ReviewItemReopened():
            assert cycle is not None
            return {
                "cycle": _with_item(
                    cycle,
                    event.criterion_id,
                    status=ItemStatus.SUBMITTED,
                    review_due_at=event.review_due_at,
                    escalated=False,
                )
            }
        case ev.ReviewEscalated():
            assert cycle is not None
            if event.next_due_at is not None:  # escalated again if still undecided by then
                item = cycle.items[event.criterion_id]
                return {
                    "cycle": _with_item(
                        cycle,
                        event.criterion_id,
                        review_due_at=event.next_due_at,
                        escalations=item.escalations + 1,
                    )
                }
            return {"cycle": _with_item(cycle, event.criterion_id, escalated=True)}
        case ev.ReviewDueSoon() | ev.ClarificationDueSoon():
            assert cycle is not None
            return {"cycle": _with_item(cycle, event.criterion_id, warned_for=event.due_at)}
        case ev.EvidenceReviewCompleted():
            assert cycle is not None
            return {
                "phase": Phase.SITE_VISIT,
                "cycle": cycle.model_copy(
                    update={"review_points": event.points, "review_score": event.score}
                ),
            }
        case ev.SiteVisitScheduled():
            assert cycle is not None
            return {
                "cycle": cycle.model_copy(update={"site_visit": "scheduled", "visit_date": event.visit_date})
            }
        case ev.SiteVisitCompleted():
            assert cycle is not None
            items = dict(cycle.items)
            for cid in event.overturned:
                items[cid] = items[cid].model_copy(update={"status": ItemStatus.REJECTED})
            for found in event.criterion_findings:
                if found.finding is ev.SiteFinding.CLEAR:
                    items[found.criterion_id] = items[found.criterion_id].model_copy(
                        update={"status": ItemStatus.APPROVED}
                    )
            return {
                "cycle": cycle.model_copy(
                    update={
                        "site_visit": "completed",
                        "overturned": tuple(event.overturned),
                        "items": items,
                        "visit_date": event.visit_date or cycle.visit_date,
                    }
                )
            }
        case ev.SiteVisitRescheduled():
            assert cycle is not None
            return {"cycle": cycle.model_copy(update={"visit_date": event.visit_date})}
        case ev.DeadlineSet():
            assert cycle is not None
            clocks = {**cycle.clocks, event.deadline.value: PhaseClock(due_at=event.due_at)}
            return {"cycle": cycle.model_copy(update={"clocks": clocks})}
        case ev.DeadlineExtended():
            assert cycle is not None
            return {"cycle": _extended(cycle, event)}
        case (
            ev.SubmissionDueSoon()
            | ev.VisitSchedulingDueSoon()
            | ev.CommitteeDecisionDueSoon()
            | ev.SubmissionOverdue()
            | ev.VisitSchedulingOverdue()
            | ev.CommitteeDecisionOverdue()
        ):
            assert cycle is not None
            return {"cycle": _clock_told(cycle, event)}
        case ev.SiteVisitWaived():
            assert cycle is not None
            return {"cycle": cycle.model_copy(update={"site_visit": "waived"})}
        case ev.LevelRecommended():
            assert cycle is not None
            rec = Recommendation(
                points=event.points,
                possible=event.possible,
                score=event.score,
                level=event.level,
                honor_roll=event.honor_roll,
            )
            return {"phase": Phase.COMMITTEE, "cycle": cycle.model_copy(update={"recommendation": rec})}
        case ev.LevelDecided() | ev.CityNotCertified():
            assert cycle is not None
            level = event.level if isinstance(event, ev.LevelDecided) else None
            return {
                "phase": Phase.APPEAL_WINDOW,
                "cycle": cycle.model_copy(
                    update={"decided": True, "decided_level": level, "appeal_deadline": event.appeal_deadline}
                ),
            }
        case ev.DecisionAccepted():
            return {}  # the award or closure recorded with it moves the city on
        case ev.AppealFiled():
            assert cycle is not None
            update = {
                "appeal_filed": True,
                "appeal_criteria": tuple(event.criteria),
                "appeal_evidence": tuple(event.evidence),
            }
            return {"phase": Phase.APPEAL, "cycle": cycle.model_copy(update=update)}
        case ev.AppealDecided() if event.upheld and event.review_again:
            assert cycle is not None
            items = dict(cycle.items)
            for cid in event.review_again:
                if cid not in items:
                    continue  # never submitted: the appeal's evidence (EvidenceSubmitted) follows
                item = items[cid]
                items[cid] = item.model_copy(
                    update={
                        "status": ItemStatus.SUBMITTED,
                        "reviewer_id": None,
                        "review_due_at": event.review_due_at,
                        "clarification_due_at": None,
                        "escalated": False,
                        "warned_for": None,
                        "earlier_reviewers": (
                            (*item.earlier_reviewers, item.reviewer_id)
                            if item.reviewer_id and item.reviewer_id not in item.earlier_reviewers
                            else item.earlier_reviewers
                        ),
                    }
                )
            update = {
                "appeal_decided": True,
                "appeal_reviewed": True,
                "decided": False,
                "decided_level": None,
                "appeal_deadline": None,
                "items": items,
            }
            return {"phase": Phase.APPEAL_REVIEW, "cycle": cycle.model_copy(update=update)}
        case ev.AppealDecided():
            assert cycle is not None
            return {
                "cycle": cycle.model_copy(update={"appeal_decided": True, "decided_level": event.level}),
            }
        case ev.CertificationAwarded() | ev.CertificationImported():
            certification = Certification(
                level=event.level,
                cohort=event.cohort,
                standard_version=event.standard_version,
                valid_from=event.valid_from,
                valid_until=event.valid_until,
                imported=isinstance(event, ev.CertificationImported),
                score=state.score if isinstance(event, ev.CertificationAwarded) else None,
                number=_certificate_number(state.city_id, event),
                rules=cycle.rules
                if cycle is not None and isinstance(event, ev.CertificationAwarded)
                else FIRST,
            )
            return {
                "phase": Phase.CERTIFIED,
                "certification": certification,
                "cycle": None,
                "import_proposal": None,
            }
        case ev.CertificationImportProposed():
            proposal = ImportProposal(
                level=event.level,
                cohort=event.cohort,
                standard_version=event.standard_version,
                valid_from=event.valid_from,
                valid_until=event.valid_until,
                proposed_by=event.proposed_by,
            )
            return {"phase": Phase.IMPORT_PROPOSED, "import_proposal": proposal}
        case ev.CertificationImportRejected():
            return {"phase": Phase.REGISTERED, "import_proposal": None}
        case ev.CertificationCycleClosed():
            return {
                "phase": Phase.CERTIFIED if state.certification else Phase.REGISTERED,
                "cycle": None,
                "not_certified_at": event.closed_at or state.not_certified_at,
            }
        case ev.ReminderSent():
            assert state.certification is not None
            sent = (*state.certification.reminders_sent, event.threshold_days)
            return {"certification": state.certification.model_copy(update={"reminders_sent": sent})}
        case ev.CertificationLapsed():
            # A cycle in flight carries on: a lapsed city may still finish its re-certification.
            phase = state.phase if cycle else Phase.REGISTERED
            return {"phase": phase, "certification": None}
        case ev.DocumentUploaded():
            return {}  # the documents are read from the log (readmodel.documents), not kept here
        case ev.PastCertificationImported():
            past = PastCertification(
                level=event.level,
                cohort=event.cohort,
                standard_version=event.standard_version,
                valid_from=event.valid_from,
                valid_until=event.valid_until,
                imported_by=event.imported_by,
            )
            return {"past_certifications": (*state.past_certifications, past)}
        case ev.CertificationEnded():
            cert = state.certification
            assert cert is not None
            ended = EndedCertification(
                level=cert.level,
                cohort=cert.cohort,
                standard_version=cert.standard_version,
                valid_from=cert.valid_from,
                valid_until=cert.valid_until,
                number=cert.number,
                ended_at=event.ended_at,
                reason=event.reason,
                detail=event.detail,
            )
            # A cycle in flight carries on, as after a lapse; otherwise the city is registered.
            return {
                "phase": state.phase if cycle else Phase.REGISTERED,
                "cycle": cycle.model_copy(update={"certification_ended": True}) if cycle else None,
                "certification": None,
                "ended_certifications": (*state.ended_certifications, ended),
            }
        case ev.CertificationSuspended():
            assert state.certification is not None
            return {
                "certification": state.certification.model_copy(update={"suspended_because": event.reason})
            }
        case ev.CertificationReinstated():
            assert state.certification is not None
            return {"certification": state.certification.model_copy(update={"suspended_because": None})}
        case ev.CityRejoined():
            return {"phase": Phase.REGISTERED, "withdrawn_reason": None}
        case ev.CityWithdrawn():
            return {
                "phase": Phase.WITHDRAWN,
                "cycle": None,
                "certification": None,
                "withdrawn_reason": event.reason,
                "import_proposal": None,
            }
        case ev.PracticeAreaAssigned():
            assert cycle is not None
            areas = {**cycle.area_reviewers, event.practice_area: event.reviewer_id}
            return {"cycle": cycle.model_copy(update={"area_reviewers": areas})}
        case ev.LeadReviewerAssigned():
            assert cycle is not None
            return {"cycle": cycle.model_copy(update={"lead_reviewer_id": event.reviewer_id})}
        case ev.NoConflictDeclared():
            assert cycle is not None
            declared = (*cycle.no_conflict_declared, event.reviewer_id)
            return {"cycle": cycle.model_copy(update={"no_conflict_declared": declared})}
        case ev.ConflictDeclared():
            assert cycle is not None
            return {"cycle": _without_reviewer(cycle, event.reviewer_id, event.reason)}
        case ev.ReviewSignedOff():
            assert cycle is not None
            return {"cycle": cycle.model_copy(update={"signed_off_by": event.reviewer_id})}
    raise TypeError(f"evolve does not know event {type(event).__name__}")
