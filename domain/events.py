"""Domain events: past-tense facts about one city, in the order they happened.

Events are payloads only; the event store wraps each in an envelope (id, stream, version, time,
actor, correlation). A field added to an event bumps its `schema_version` and registers an upcaster
in UPCASTERS, so events written decades ago still read as today's model.

Ids are typed (domain.ids): the commands have always held them to exactly these rules, so every
stored event satisfies them. Free text stays `str`: its bounds are the commands' (the input), and
bounding it here would refuse events written before those bounds existed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain.ids import CityId, CountryCode, CriterionId, DocumentId, Sha256
from domain.levels import Level, Outcome


class Answer(StrEnum):
    MET = "met"
    PARTLY = "partly"
    NOT_MET = "not_met"


class Document(BaseModel):
    """A document given as evidence: a link, or one the city uploaded (its id and SHA-256, so the
    hash chain covers what the reviewer saw)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    url: str = ""  # a link's address; empty for an uploaded document
    document_id: str | None = None
    sha256: str | None = None
    # The criterion's required document it was given as (1-based, its worksheet's slot); None:
    # supporting only, or given before documents had slots.
    slot: int | None = None


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__


# Registration and self-assessment -------------------------------------------------------------


class CityRegistered(DomainEvent):
    city_id: CityId
    name: str
    country: CountryCode
    population: int
    # None: not given (and for every registration recorded before these fields).
    region: str | None = None  # the state or province
    population_source: str | None = None
    population_year: int | None = None


class CityProfileCorrected(DomainEvent):
    """An operator corrected the city's profile: each field given is its new value, None where it
    stayed as it was; with the reason and who corrected it."""

    name: str | None = None
    population: int | None = None
    population_source: str | None = None
    population_year: int | None = None
    region: str | None = None
    reason: str
    corrected_by: str


class DataSnapshotTaken(DomainEvent):
    standard_version: str
    answers: dict[CriterionId, Answer]
    points: int
    score: float
    indicative_level: Level | None
    roadmap: list[CriterionId]  # criteria not yet met, in the standard's order
    taken_at: AwareDatetime | None = None  # when; absent from snapshots recorded before the rate limit
    standard_revision: int | None = None  # the standard's revision; None: recorded before revisions (1)
    # For a roadmap criterion that cannot earn its point yet, the prerequisites not met that block
    # it ("DM2 blocked by DM1"); empty in snapshots recorded before it was said.
    blocked_by: dict[CriterionId, list[CriterionId]] = Field(default_factory=dict)


# A certification cycle: application, evidence, review ------------------------------------------


class ApplicationSubmitted(DomainEvent):
    cycle: int
    cohort: str
    standard_version: str
    # The standard's revision and the decision rules (domain/rules.py) the cycle runs under;
    # None: opened before either was recorded, so the first of each.
    standard_revision: int | None = None
    rules: int | None = None


class RecertificationStarted(DomainEvent):
    cycle: int
    cohort: str
    standard_version: str
    previous_level: Level
    standard_revision: int | None = None  # as ApplicationSubmitted's
    rules: int | None = None


class EvidenceSubmitted(DomainEvent):
    criterion_id: CriterionId
    documents: list[Document]
    narrative: str
    review_due_at: AwareDatetime  # reviewers owe a decision by then (reset when one is assigned)
    # The criterion's submission in this cycle, 1 and up: a resubmission after a rejection stands
    # beside the one before it, and each decision names the one it was made on. None: recorded
    # before submissions were counted.
    submission: int | None = None
    claims: list[int] = []  # the checklist items (1-based) the city claims this evidence meets


class EvidenceSubmissionClosed(DomainEvent):
    submitted: list[CriterionId]


class ReviewerAssigned(DomainEvent):
    criterion_id: CriterionId
    reviewer_id: str
    due_at: AwareDatetime


class EvidenceApproved(DomainEvent):
    criterion_id: CriterionId
    reviewer_id: str
    note: str = ""
    submission: int | None = None  # the submission decided on (EvidenceSubmitted.submission)
    checklist_met: list[int] = []  # the checklist items (1-based) the reviewer found met
    # Why the approval stands although the checklist or the required documents fall short: the
    # reviewer's reason, given on purpose ("" when the worksheet was complete, or not checked).
    override: str = ""


class EvidenceRejected(DomainEvent):
    criterion_id: CriterionId
    reviewer_id: str
    note: str = ""
    submission: int | None = None  # the submission decided on (EvidenceSubmitted.submission)


class ClarificationRequested(DomainEvent):
    criterion_id: CriterionId
    reviewer_id: str
    question: str
    due_at: AwareDatetime
    submission: int | None = None  # the submission asked about


class ClarificationAnswered(DomainEvent):
    criterion_id: CriterionId
    answer: str
    review_due_at: AwareDatetime
    documents: list[Document] = []  # added to the criterion's evidence (in its slots or supporting)


class ClarificationExpired(DomainEvent):
    """The city did not answer in time; the item counts as rejected."""

    criterion_id: CriterionId
    was_due_at: AwareDatetime


class ReviewEscalated(DomainEvent):
    criterion_id: CriterionId
    reviewer_id: str | None
    was_due_at: AwareDatetime
    # When the reviewer's decision is due next, escalated again if it is still not made (cycles
    # under the programme's review rules); None: escalated once for good (the first rules).
    next_due_at: AwareDatetime | None = None


class ReviewDueSoon(DomainEvent):
    """The reviewer's decision is due soon (ProgrammePolicy.review_warning before it)."""

    criterion_id: CriterionId
    reviewer_id: str
    due_at: AwareDatetime


class ClarificationDueSoon(DomainEvent):
    """The city's answer to a reviewer's question is due soon (clarification_warning before it)."""

    criterion_id: CriterionId
    due_at: AwareDatetime


class ReviewItemReopened(DomainEvent):
    """A lead reviewer reopened a decided item with the reason: it awaits a reviewer again (by
    `review_due_at`, a fresh reviewer deadline)."""

    criterion_id: CriterionId
    reopened_by: str
    reason: str
    was: str  # the status it had: approved or rejected
    review_due_at: AwareDatetime | None = None


class EvidenceReviewCompleted(DomainEvent):
    approved: list[CriterionId]
    points: int
    score: float


# Site visit, recommendation, committee, appeal ----------------------------------------------------


class SiteVisitScheduled(DomainEvent):
    visit_date: date


class SiteFinding(StrEnum):
    """What a site visit found of one criterion's review decision."""

    CONFIRM = "confirm"  # the decision stands as seen on site
    OVERTURN = "overturn"  # an approval the visit found unsupported: the criterion is rejected
    CLEAR = "clear"  # a rejection the visit found met on site: the criterion is approved


class CriterionFinding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: CriterionId
    finding: SiteFinding
    note: str = ""


class SiteVisitCompleted(DomainEvent):
    findings: str
    overturned: list[CriterionId]  # approvals the visit found unsupported
    # The day the visit took place, and its finding per criterion (the overturned among them);
    # absent from visits recorded before either was.
    visit_date: date | None = None
    criterion_findings: list[CriterionFinding] = []


class SiteVisitRescheduled(DomainEvent):
    previous_date: date
    visit_date: date
    reason: str


class SiteVisitWaived(DomainEvent):
    reason: str
    approved_by: str | None = None  # who approved the waiver; None: recorded before it was named


class LevelRecommended(DomainEvent):
    points: int
    possible: int
    score: float
    level: Level | None
    honor_roll: bool


class LevelDecided(DomainEvent):
    level: Level
    rationale: str
    appeal_deadline: AwareDatetime
    # The committee's decision after an upheld appeal's fresh review: no appeal follows (the
    # deadline is the decision's moment) and it takes effect at once.
    final: bool = False


class CityNotCertified(DomainEvent):
    honor_roll: bool
    rationale: str
    appeal_deadline: AwareDatetime
    final: bool = False  # as LevelDecided's


class DecisionAccepted(DomainEvent):
    """The city accepted the committee's decision and gave up the appeal it could file until then."""

    appeal_deadline: AwareDatetime


class AppealEvidence(BaseModel):
    """Evidence an appeal brings for a criterion it contests: reviewed afresh if it is upheld."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: CriterionId
    documents: list[Document]
    narrative: str = ""


class AppealFiled(DomainEvent):
    grounds: str
    # The criteria contested and the evidence brought for them; none: the appeal contests the
    # committee's decision alone (and every appeal recorded before criteria could be named).
    criteria: list[CriterionId] = []
    evidence: list[AppealEvidence] = []


class AppealDecided(DomainEvent):
    upheld: bool
    # The level after the appeal; None: not certified, or (with `review_again`) not known until
    # the contested criteria are reviewed afresh and the committee decides again.
    level: Level | None
    rationale: str
    # An upheld appeal against criteria: those go to a fresh reviewer, due by `review_due_at`
    # (evidence the appeal brought follows as EvidenceSubmitted).
    review_again: list[CriterionId] = []
    review_due_at: AwareDatetime | None = None


# Certification and its life ---------------------------------------------------------------------


class CertificationAwarded(DomainEvent):
    cycle: int
    level: Level
    cohort: str  # the round's id (cohorts were free text before rounds were records)
    standard_version: str
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    previous_level: Level | None
    outcome: Outcome
    # The certificate issued (domain/certificates.py); None for awards before the ROUNDS rules,
    # whose number the read model derives the same way.
    certificate_number: str | None = None


class CertificationCycleClosed(DomainEvent):
    """A cycle that ended without a certification (not certified, appeal refused)."""

    cycle: int
    honor_roll: bool
    # When it closed (cycles under the ROUNDS rules): a waiting period before the city applies
    # again counts from here.
    closed_at: AwareDatetime | None = None


class MigrationModeOn(BaseModel):
    """Migration mode as it stood when an import relied on it: since when, who switched it on and
    why (the programme stream's MigrationModeSwitchedOn, domain/programme.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: AwareDatetime
    switched_on_by: str
    reason: str


class CertificationImportProposed(DomainEvent):
    """An operator proposed importing a certification the city earned before citycert; it holds
    nothing until a committee member other than the proposer countersigns it."""

    level: Level
    cohort: str
    standard_version: str
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    proposed_by: str


class CertificationImportRejected(DomainEvent):
    proposed_by: str
    rejected_by: str
    reason: str


class CertificationImported(DomainEvent):
    """A certification from before citycert, now held: countersigned by a committee member (who
    is not its proposer), or recorded directly while the store's migration mode was on. Version 1
    (the retired ImportCertification, an operator alone) named neither."""

    schema_version: ClassVar[int] = 2

    level: Level
    cohort: str
    standard_version: str
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    proposed_by: str | None = None
    countersigned_by: str | None = None
    note: str = ""  # the countersigner's
    migration_mode: MigrationModeOn | None = None


class ReminderSent(DomainEvent):
    threshold_days: int
    valid_until: AwareDatetime


class CertificationLapsed(DomainEvent):
    level: Level
    valid_until: AwareDatetime


class DocumentUploaded(DomainEvent):
    """A document the city gave, stored outside the log by its SHA-256 (so verify can check it)."""

    document_id: DocumentId
    sha256: Sha256
    size: int
    media_type: str
    title: str


class CityWithdrawn(DomainEvent):
    reason: str


class EndReason(StrEnum):
    """Why a certification ended: every end is one of these, recorded as CertificationEnded."""

    SUPERSEDED = "superseded"  # a re-certification's decision took effect at its award
    LAPSED = "lapsed"  # its validity ran out with no new decision
    WITHDRAWN = "withdrawn"  # the city left the programme
    REVOKED = "revoked"  # the programme took it back, for a reason


class CertificationEnded(DomainEvent):
    """The held certification ended (certifications awarded under the ROUNDS rules; earlier ones
    lapse with CertificationLapsed, and a withdrawal or a re-certification ended them silently)."""

    certificate_number: str | None
    level: Level
    reason: EndReason
    ended_at: AwareDatetime
    detail: str = ""  # the programme's reason for a revocation; what superseded it
    ended_by: str | None = None  # who revoked it


class CertificationSuspended(DomainEvent):
    """The programme suspended the held certification: not valid while suspended, reversible."""

    certificate_number: str | None
    reason: str
    suspended_by: str
    suspended_at: AwareDatetime


class CertificationReinstated(DomainEvent):
    certificate_number: str | None
    reason: str
    reinstated_by: str
    reinstated_at: AwareDatetime


class CityRejoined(DomainEvent):
    """A withdrawn city came back: registered again, same id, its history kept."""

    reason: str
    rejoined_by: str


# Phase clocks (cycles under the programme's review rules) ----------------------------------------


class Deadline(StrEnum):
    """The deadlines of a cycle that can run out: a phase's clock, or one criterion's."""

    SUBMISSION = "submission"  # the city's evidence, from its application
    VISIT_SCHEDULING = "visit_scheduling"  # scheduling (or waiving) the site visit, from the review
    COMMITTEE = "committee"  # the committee's decision, from the recommendation
    REVIEW = "review"  # a reviewer's decision on one criterion
    CLARIFICATION = "clarification"  # the city's answer to a question on one criterion


PHASE_DEADLINES = (Deadline.SUBMISSION, Deadline.VISIT_SCHEDULING, Deadline.COMMITTEE)


class DeadlineSet(DomainEvent):
    """A phase's clock started: what is due by when (ProgrammePolicy says how long)."""

    deadline: Deadline
    due_at: AwareDatetime


class DeadlineExtended(DomainEvent):
    """An operator moved a deadline later, saying why; its clock runs to the new date (told near
    it and escalated after it again). `reviewer_id` names a review's reviewer, if any."""

    deadline: Deadline
    criterion_id: CriterionId | None = None
    was_due_at: AwareDatetime
    due_at: AwareDatetime
    reason: str
    extended_by: str
    reviewer_id: str | None = None


class SubmissionDueSoon(DomainEvent):
    due_at: AwareDatetime


class SubmissionOverdue(DomainEvent):
    was_due_at: AwareDatetime


class VisitSchedulingDueSoon(DomainEvent):
    due_at: AwareDatetime


class VisitSchedulingOverdue(DomainEvent):
    was_due_at: AwareDatetime


class CommitteeDecisionDueSoon(DomainEvent):
    due_at: AwareDatetime


class CommitteeDecisionOverdue(DomainEvent):
    was_due_at: AwareDatetime


# Each phase clock's events: told near, overdue.
DUE_SOON: dict[Deadline, type[SubmissionDueSoon | VisitSchedulingDueSoon | CommitteeDecisionDueSoon]] = {
    Deadline.SUBMISSION: SubmissionDueSoon,
    Deadline.VISIT_SCHEDULING: VisitSchedulingDueSoon,
    Deadline.COMMITTEE: CommitteeDecisionDueSoon,
}
OVERDUE: dict[Deadline, type[SubmissionOverdue | VisitSchedulingOverdue | CommitteeDecisionOverdue]] = {
    Deadline.SUBMISSION: SubmissionOverdue,
    Deadline.VISIT_SCHEDULING: VisitSchedulingOverdue,
    Deadline.COMMITTEE: CommitteeDecisionOverdue,
}
# Reviewers, assignment, conflicts and sign-off ----------------------------------------------------


class PracticeAreaAssigned(DomainEvent):
    """The reviewer takes the practice area: its criteria submitted later go to them too."""

    practice_area: str
    reviewer_id: str


class LeadReviewerAssigned(DomainEvent):
    reviewer_id: str


class NoConflictDeclared(DomainEvent):
    reviewer_id: str


class ConflictDeclared(DomainEvent):
    """The reviewer has a conflict of interest with the city: their open items and practice areas
    go back to awaiting assignment, and they are never assigned the city's items in this cycle."""

    reviewer_id: str
    reason: str


class ReviewSignedOff(DomainEvent):
    """The lead reviewer signed off the review behind the recommended level."""

    reviewer_id: str
    level: Level | None = None  # the recommended level signed off
    note: str = ""


class PastCertificationImported(DomainEvent):
    """A certification the city held before citycert, expired: history only. The city is not
    certified by it; its next cycle's outcome compares with the latest such certification."""

    level: Level
    cohort: str
    standard_version: str
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    imported_by: str


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.event_type(): cls
    for cls in (
        CityRegistered,
        DataSnapshotTaken,
        ApplicationSubmitted,
        RecertificationStarted,
        EvidenceSubmitted,
        EvidenceSubmissionClosed,
        ReviewerAssigned,
        EvidenceApproved,
        EvidenceRejected,
        ClarificationRequested,
        ClarificationAnswered,
        ClarificationExpired,
        ReviewEscalated,
        ReviewDueSoon,
        ClarificationDueSoon,
        EvidenceReviewCompleted,
        SiteVisitScheduled,
        SiteVisitCompleted,
        SiteVisitWaived,
        LevelRecommended,
        LevelDecided,
        CityNotCertified,
        AppealFiled,
        DecisionAccepted,
        AppealDecided,
        CertificationAwarded,
        CertificationCycleClosed,
        CertificationImportProposed,
        CertificationImportRejected,
        CertificationImported,
        ReminderSent,
        CertificationLapsed,
        CityWithdrawn,
        DocumentUploaded,
        SiteVisitRescheduled,
        DeadlineSet,
        DeadlineExtended,
        SubmissionDueSoon,
        SubmissionOverdue,
        VisitSchedulingDueSoon,
        VisitSchedulingOverdue,
        CommitteeDecisionDueSoon,
        CommitteeDecisionOverdue,
        PracticeAreaAssigned,
        LeadReviewerAssigned,
        NoConflictDeclared,
        ConflictDeclared,
        ReviewSignedOff,
        ReviewItemReopened,
        CityProfileCorrected,
        PastCertificationImported,
        CertificationEnded,
        CertificationSuspended,
        CertificationReinstated,
        CityRejoined,
    )
}

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# (event type, stored schema version) -> function returning the data at the next version.
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    # v1 was an operator's import alone: nobody countersigned it and no migration mode was on.
    ("CertificationImported", 1): lambda data: {
        **data,
        "proposed_by": None,
        "countersigned_by": None,
        "note": "",
        "migration_mode": None,
    },
}
