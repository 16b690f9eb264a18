"""Commands: what a person (or a timer) asks of one city's certification, in the imperative.

Each is a frozen model that checks its own shape; whether it is allowed *now* is the decider's
question. Timer commands carry no data: the deadline is in the state, the time comes from `now`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from domain.events import Answer, Deadline, MigrationModeOn, SiteFinding
from domain.ids import (
    CityId,
    CountryCode,
    CriterionId,
    DocumentId,
    HttpsUrl,
    MediaType,
    Name,
    Note,
    Sha256,
    Text,
)
from domain.levels import Level

# Bounds on what one command may carry, so no command can grow a workflow's history without limit.
MAX_ITEMS = 500  # criteria (evidence, reviews, answers, snapshot answers) in one command
MAX_DOCUMENTS = 20  # documents given for one criterion
MAX_POPULATION = 1_000_000_000
MAX_DOCUMENT_BYTES = 2**40  # an uploaded document's size; the API's own cap is a setting, far lower
MAX_NUMBERED = 100  # checklist items or document slots one criterion's worksheet may name

# A checklist item or a required-document slot, by its 1-based position in the criterion (fixed
# within a standard revision); whether the criterion has it is the decider's question.
Position = Annotated[int, Field(ge=1, le=MAX_NUMBERED)]

MIN_POPULATION_YEAR, MAX_POPULATION_YEAR = 1800, 2200  # a population figure's year (the decider
# refuses one in the future)


class Command(BaseModel):
    """Every subclass names itself in `kind` (its class name, as `command_name()` says), so a
    command travels as plain JSON and comes back as its own class through `AnyCommand`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def command_name(cls) -> str:
        return cls.__name__


def _unique(ids: list[str], what: str) -> None:
    dups = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dups:
        raise ValueError(f"{what} named more than once: {', '.join(dups)}")


class RegisterCity(Command):
    kind: Literal["RegisterCity"] = "RegisterCity"
    city_id: CityId
    name: Name
    country: CountryCode
    population: int = Field(ge=0, le=MAX_POPULATION)
    # Optional: registrations before these fields name neither. The population's source and year
    # say where the figure comes from (a census, an estimate), so a later correction can say why.
    region: Name | None = None  # the state or province
    population_source: Name | None = None
    population_year: int | None = Field(None, ge=MIN_POPULATION_YEAR, le=MAX_POPULATION_YEAR)


class TakeDataSnapshot(Command):
    kind: Literal["TakeDataSnapshot"] = "TakeDataSnapshot"
    standard_version: Name
    answers: dict[CriterionId, Answer] = Field(min_length=1, max_length=MAX_ITEMS)


class ApplicationRound(BaseModel):
    """The round an application names, as the programme's records say (the application layer puts
    it in, as it reads them: the workflow never reads the database); None: no such round."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    round_id: Name
    opens_on: date
    closes_on: date


class ApplyForCertification(Command):
    kind: Literal["ApplyForCertification"] = "ApplyForCertification"
    cohort: Name  # the round's id (rounds were free-text cohorts before they were records)
    standard_version: Name
    round: ApplicationRound | None = None


class DocumentLink(BaseModel):
    """A document given by its link: a bounded title and an https address. (The events' Document
    stays as lenient as it was, so that evidence recorded before these bounds still folds.) An
    event's Document is accepted too, and checked as a link."""

    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)

    title: Name
    url: HttpsUrl
    slot: Position | None = Field(
        None, description="the criterion's required document it is (1-based); none: supporting only"
    )


class UploadedDocument(BaseModel):
    """A document the city uploaded (POST /v1/cities/{id}/documents), by its id. Its SHA-256 and
    title are the application layer's to fill in from the upload, never a caller's: the command
    service looks the id up among the city's uploads and refuses one it does not find."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document_id: DocumentId
    sha256: Sha256 | None = None
    title: Name | None = None
    slot: Position | None = Field(
        None, description="the criterion's required document it is (1-based); none: supporting only"
    )


GivenDocument = DocumentLink | UploadedDocument


def _distinct_numbers(numbers: list[int], what: str, criterion_id: str) -> None:
    dups = sorted(n for n, k in Counter(numbers).items() if k > 1)
    if dups:
        raise ValueError(f"{what} of {criterion_id} named more than once: {', '.join(map(str, dups))}")


class EvidenceItem(BaseModel):
    """A criterion's evidence as its worksheet reads: documents in the criterion's required-document
    slots (and supporting ones without a slot), and the checklist items the city claims it meets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: CriterionId
    documents: list[GivenDocument] = Field(min_length=1, max_length=MAX_DOCUMENTS)
    narrative: Note = ""
    claims: list[Position] = Field(
        default=[], max_length=MAX_NUMBERED, description="the checklist items (1-based) the city claims"
    )

    @model_validator(mode="after")
    def _claims_once(self) -> EvidenceItem:
        _distinct_numbers(self.claims, "claimed checklist items", self.criterion_id)
        return self


class SubmitEvidence(Command):
    kind: Literal["SubmitEvidence"] = "SubmitEvidence"
    items: list[EvidenceItem] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _one_item_per_criterion(self) -> SubmitEvidence:
        _unique([i.criterion_id for i in self.items], "criterion")
        return self


class CloseEvidenceSubmission(Command):
    kind: Literal["CloseEvidenceSubmission"] = "CloseEvidenceSubmission"


class AssignReviewer(Command):
    kind: Literal["AssignReviewer"] = "AssignReviewer"
    reviewer_id: Name
    reviewer_home_city: CityId
    # The cities the reviewer declared conflicts with (their record's, filled by the application
    # layer); empty in commands recorded before profiles existed.
    reviewer_conflicts: list[CityId] = Field(default=[], max_length=MAX_ITEMS)
    criterion_ids: list[CriterionId] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _unique_ids(self) -> AssignReviewer:
        _unique(self.criterion_ids, "criterion")
        return self


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CLARIFICATION = "request_clarification"


class ReviewItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: CriterionId
    decision: Verdict
    note: Note = ""
    checklist_met: list[Position] = Field(
        default=[],
        max_length=MAX_NUMBERED,
        description="an approval's checklist items (1-based) the reviewer found met",
    )
    override: Note = Field(
        "",
        description="why an approval stands although its checklist or required documents fall short",
    )

    @model_validator(mode="after")
    def _question_needs_words(self) -> ReviewItem:
        if self.decision is Verdict.REQUEST_CLARIFICATION and not self.note.strip():
            raise ValueError(
                f"a clarification request for {self.criterion_id} needs a note saying what to clarify"
            )
        return self

    @model_validator(mode="after")
    def _worksheet_is_an_approvals(self) -> ReviewItem:
        if self.decision is not Verdict.APPROVE and (self.checklist_met or self.override.strip()):
            raise ValueError(
                f"checklist items met and an override are an approval's; {self.criterion_id} is not approved"
            )
        _distinct_numbers(self.checklist_met, "checklist items met", self.criterion_id)
        return self


class ReviewEvidence(Command):
    kind: Literal["ReviewEvidence"] = "ReviewEvidence"
    reviewer_id: Name
    reviewer_home_city: CityId
    items: list[ReviewItem] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _one_decision_per_criterion(self) -> ReviewEvidence:
        _unique([i.criterion_id for i in self.items], "criterion")
        return self


class ClarificationAnswer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: CriterionId
    answer: Text
    documents: list[GivenDocument] = Field(
        default=[],
        max_length=MAX_DOCUMENTS,
        description="documents the answer adds to the criterion's evidence, in its slots or supporting",
    )


class AnswerClarifications(Command):
    kind: Literal["AnswerClarifications"] = "AnswerClarifications"
    items: list[ClarificationAnswer] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _one_answer_per_criterion(self) -> AnswerClarifications:
        _unique([i.criterion_id for i in self.items], "criterion")
        return self


class ExpireClarifications(Command):
    """Timer: reject every item whose clarification answer is overdue."""

    kind: Literal["ExpireClarifications"] = "ExpireClarifications"


class WarnOfDueDates(Command):
    """Timer: tell each reviewer whose decision, and each city whose answer, is due soon."""

    kind: Literal["WarnOfDueDates"] = "WarnOfDueDates"


class EscalateOverdueReviews(Command):
    """Timer: escalate every item whose reviewer decision is overdue."""

    kind: Literal["EscalateOverdueReviews"] = "EscalateOverdueReviews"


class ScheduleSiteVisit(Command):
    kind: Literal["ScheduleSiteVisit"] = "ScheduleSiteVisit"
    visit_date: date


class CriterionFinding(BaseModel):
    """What the visit found of one criterion's decision: confirm it, overturn an approval (the
    criterion is rejected), or clear a rejection the visit saw met on site (it is approved)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: CriterionId
    finding: SiteFinding
    note: Note = ""


class CompleteSiteVisit(Command):
    """Record the visit: one that was scheduled, or (under the programme's review rules) one that
    already took place on `visit_date`, without scheduling it first."""

    kind: Literal["CompleteSiteVisit"] = "CompleteSiteVisit"
    findings: Text
    overturned: list[CriterionId] = []
    visit_date: date | None = None  # the day it took place; None: the day it was scheduled for
    criterion_findings: list[CriterionFinding] = Field(default=[], max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _unique_ids(self) -> CompleteSiteVisit:
        _unique(self.overturned, "overturned criterion")
        _unique([*self.overturned, *(f.criterion_id for f in self.criterion_findings)], "criterion")
        return self


class WaiveSiteVisit(Command):
    """`approved_by` is the application layer's to fill (the actor's id), never a caller's."""

    kind: Literal["WaiveSiteVisit"] = "WaiveSiteVisit"
    reason: Text
    approved_by: Name | None = None


class DecideLevel(Command):
    kind: Literal["DecideLevel"] = "DecideLevel"
    level: Level | None  # None: not certified
    rationale: Text


class FileAppeal(Command):
    """An appeal against the committee's decision. Under the programme's review rules it names the
    criteria it contests (rejected ones, ones a site visit overturned, or any criterion when the
    city was not certified) and may bring evidence for them, in SubmitEvidence's shape; naming
    none, it contests a decision below the recommendation. Under the first rules it names none."""

    kind: Literal["FileAppeal"] = "FileAppeal"
    grounds: Text
    criteria: list[CriterionId] = Field(default=[], max_length=MAX_ITEMS)
    evidence: list[EvidenceItem] = Field(default=[], max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _evidence_for_contested_criteria(self) -> FileAppeal:
        _unique(self.criteria, "contested criterion")
        _unique([i.criterion_id for i in self.evidence], "criterion with evidence")
        stray = sorted({i.criterion_id for i in self.evidence} - set(self.criteria))
        if stray:
            raise ValueError(f"evidence for criteria the appeal does not contest: {', '.join(stray)}")
        return self


class AcceptDecision(Command):
    """The city accepts the committee's decision: it will not appeal, so the decision takes effect
    now instead of when the appeal window closes."""

    kind: Literal["AcceptDecision"] = "AcceptDecision"


class DecideAppeal(Command):
    kind: Literal["DecideAppeal"] = "DecideAppeal"
    upheld: bool
    # The level granted when an appeal against the decision alone is upheld; an upheld appeal
    # against criteria grants none (they are reviewed afresh, and the committee decides again).
    level: Level | None = None
    rationale: Text


class CloseAppealWindow(Command):
    """Timer: the appeal window ended without an appeal."""

    kind: Literal["CloseAppealWindow"] = "CloseAppealWindow"


class SendReminder(Command):
    kind: Literal["SendReminder"] = "SendReminder"
    threshold_days: int = Field(gt=0)


class LapseCertification(Command):
    """Timer: the validity period ended without a new decision."""

    kind: Literal["LapseCertification"] = "LapseCertification"


class Withdraw(Command):
    kind: Literal["Withdraw"] = "Withdraw"
    reason: Text


class UploadDocument(Command):
    """Record a document the city gave: its bytes are stored by their SHA-256 before this command
    is given (outside the log), so the log's hash chain covers the document's hash."""

    kind: Literal["UploadDocument"] = "UploadDocument"
    document_id: DocumentId
    sha256: Sha256
    size: int = Field(gt=0, le=MAX_DOCUMENT_BYTES)
    media_type: MediaType
    title: Name


class ImportCertification(Command):
    """Retired: an operator alone recorded a certification. Nobody may give it any more
    (domain/authority.py); it stays so that histories recorded with it replay. ProposeImport
    took its place."""

    kind: Literal["ImportCertification"] = "ImportCertification"
    level: Level
    cohort: Name
    standard_version: Name
    valid_from: AwareDatetime
    valid_until: AwareDatetime

    @model_validator(mode="after")
    def _period(self) -> ImportCertification:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class ProposeImport(Command):
    """Import a certification the city earned before citycert: a proposal that a committee member
    other than the proposer countersigns, or recorded directly while migration mode is on.

    `proposed_by` and `migration_mode` are the application layer's to fill (the actor's id, and
    the store's migration mode as the programme stream says), never a caller's: the command
    service overwrites both and signs the command, so the workflow can trust them."""

    kind: Literal["ProposeImport"] = "ProposeImport"
    level: Level
    cohort: Name
    standard_version: Name
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    proposed_by: Name
    migration_mode: MigrationModeOn | None = None

    @model_validator(mode="after")
    def _period(self) -> ProposeImport:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class CountersignImport(Command):
    """A committee member confirms the proposed import; `countersigned_by` is the actor's id."""

    kind: Literal["CountersignImport"] = "CountersignImport"
    countersigned_by: Name
    note: Note = ""


class RejectImport(Command):
    """A committee member refuses the proposed import; the city stays registered."""

    kind: Literal["RejectImport"] = "RejectImport"
    rejected_by: Name
    reason: Text


class RescheduleSiteVisit(Command):
    """Move a scheduled visit to another day, saying why."""

    kind: Literal["RescheduleSiteVisit"] = "RescheduleSiteVisit"
    visit_date: date
    reason: Text


# The deadlines that belong to one criterion, and those that belong to the cycle's phase.
_CRITERION_DEADLINES = frozenset({Deadline.REVIEW, Deadline.CLARIFICATION})


class ExtendDeadline(Command):
    """Move a running deadline later, with the reason: a phase's (submission, visit scheduling,
    committee) or one criterion's (its review or its clarification answer). `extended_by` is the
    application layer's to fill (the actor's id), never a caller's."""

    kind: Literal["ExtendDeadline"] = "ExtendDeadline"
    deadline: Deadline
    criterion_id: CriterionId | None = None
    due_at: AwareDatetime
    reason: Text
    extended_by: Name | None = None

    @model_validator(mode="after")
    def _criterion_when_needed(self) -> ExtendDeadline:
        if self.deadline in _CRITERION_DEADLINES and self.criterion_id is None:
            raise ValueError(f"a {self.deadline.value} deadline is a criterion's: name its criterion_id")
        if self.deadline not in _CRITERION_DEADLINES and self.criterion_id is not None:
            raise ValueError(f"the {self.deadline.value} deadline is the cycle's: give no criterion_id")
        return self


class EscalateMissedDeadlines(Command):
    """Timer: escalate every phase deadline (submission, visit scheduling, committee) that passed."""

    kind: Literal["EscalateMissedDeadlines"] = "EscalateMissedDeadlines"


# Reviewers, assignment, conflicts and the lead's sign-off ------------------------------------------
#
# A reviewer is named by id (a person's id, or a token identity). The commands that pick a reviewer
# carry their home city and the cities they declared conflicts with: the application layer fills
# both from the reviewer's record, never a caller's, and signs the command, so the domain can refuse
# a conflicted reviewer without reading anything.


class AssignPracticeArea(Command):
    """Give a reviewer a practice area of the city's cycle: its criteria awaiting a reviewer now,
    and those submitted later in it."""

    kind: Literal["AssignPracticeArea"] = "AssignPracticeArea"
    reviewer_id: Name
    reviewer_home_city: CityId
    reviewer_conflicts: list[CityId] = Field(default=[], max_length=MAX_ITEMS)
    practice_area: Name


class AssignLeadReviewer(Command):
    """Name the cycle's lead reviewer: they may decide any item, and sign off the review."""

    kind: Literal["AssignLeadReviewer"] = "AssignLeadReviewer"
    reviewer_id: Name
    reviewer_home_city: CityId
    reviewer_conflicts: list[CityId] = Field(default=[], max_length=MAX_ITEMS)


class DeclareNoConflict(Command):
    """A reviewer declares they have no conflict of interest with the city, before seeing its evidence."""

    kind: Literal["DeclareNoConflict"] = "DeclareNoConflict"
    reviewer_id: Name


class DeclareConflict(Command):
    """A reviewer declares a conflict of interest with the city: they give up its items."""

    kind: Literal["DeclareConflict"] = "DeclareConflict"
    reviewer_id: Name
    reason: Text


class SignOffReview(Command):
    """The lead reviewer's second review of the recommendation, which the levels the programme
    chooses (ProgrammePolicy.lead_signoff_levels) need before the committee decides."""

    kind: Literal["SignOffReview"] = "SignOffReview"
    reviewer_id: Name
    note: Note = ""


class ReopenReviewItem(Command):
    """A lead reviewer reopens a decided item (approved or rejected) with the reason, until the
    review completes: it awaits a reviewer's decision again. `reopened_by` is the application
    layer's to fill (the actor's id), as `proposed_by` is for an import."""

    kind: Literal["ReopenReviewItem"] = "ReopenReviewItem"
    criterion_id: CriterionId
    reason: Text
    reopened_by: Name


class CorrectCityProfile(Command):
    """An operator corrects what the city's profile says: its name, population (with the figure's
    source and year), region. Fields left out stay as they are; `corrected_by` is the actor's id."""

    kind: Literal["CorrectCityProfile"] = "CorrectCityProfile"
    name: Name | None = None
    population: int | None = Field(None, ge=0, le=MAX_POPULATION)
    population_source: Name | None = None
    population_year: int | None = Field(None, ge=MIN_POPULATION_YEAR, le=MAX_POPULATION_YEAR)
    region: Name | None = None
    reason: Text
    corrected_by: Name

    @model_validator(mode="after")
    def _corrects_something(self) -> CorrectCityProfile:
        if all(getattr(self, f) is None for f in PROFILE_FIELDS):
            raise ValueError(f"a correction changes at least one of: {', '.join(PROFILE_FIELDS)}")
        return self


class SuspendCertification(Command):
    """The programme suspends the held certification, for a reason: not valid until reinstated."""

    kind: Literal["SuspendCertification"] = "SuspendCertification"
    reason: Text
    suspended_by: Name


class ReinstateCertification(Command):
    kind: Literal["ReinstateCertification"] = "ReinstateCertification"
    reason: Text
    reinstated_by: Name


class RevokeCertification(Command):
    """The programme takes the held certification back, for a reason: it ends for good."""

    kind: Literal["RevokeCertification"] = "RevokeCertification"
    reason: Text
    revoked_by: Name


class RejoinProgramme(Command):
    """A withdrawn city comes back: registered again under its id, with its history."""

    kind: Literal["RejoinProgramme"] = "RejoinProgramme"
    reason: Text
    rejoined_by: Name


PROFILE_FIELDS = ("name", "population", "population_source", "population_year", "region")


class ImportPastCertification(Command):
    """An operator records a certification the city held before citycert and that has expired:
    history, which the city's first re-certification compares with. `imported_by` is the actor's id."""

    kind: Literal["ImportPastCertification"] = "ImportPastCertification"
    level: Level
    cohort: Name
    standard_version: Name
    valid_from: AwareDatetime
    valid_until: AwareDatetime
    imported_by: Name

    @model_validator(mode="after")
    def _period(self) -> ImportPastCertification:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


# What a person gives (through the API or the CLI), and what the workflow's own timers and the
# reminder sweep give; the workflow refuses the latter from a person.
HumanCommand = (
    RegisterCity
    | TakeDataSnapshot
    | ApplyForCertification
    | SubmitEvidence
    | CloseEvidenceSubmission
    | AssignReviewer
    | ReviewEvidence
    | AnswerClarifications
    | ScheduleSiteVisit
    | CompleteSiteVisit
    | WaiveSiteVisit
    | DecideLevel
    | FileAppeal
    | AcceptDecision
    | DecideAppeal
    | Withdraw
    | ImportCertification
    | ProposeImport
    | CountersignImport
    | RejectImport
    | UploadDocument
    | RescheduleSiteVisit
    | ExtendDeadline
    | AssignPracticeArea
    | AssignLeadReviewer
    | DeclareNoConflict
    | DeclareConflict
    | SignOffReview
    | ReopenReviewItem
    | CorrectCityProfile
    | ImportPastCertification
    | SuspendCertification
    | ReinstateCertification
    | RevokeCertification
    | RejoinProgramme
)
TimerCommand = (
    ExpireClarifications
    | EscalateOverdueReviews
    | CloseAppealWindow
    | SendReminder
    | LapseCertification
    | WarnOfDueDates
    | EscalateMissedDeadlines
)

HUMAN_COMMANDS: tuple[type[Command], ...] = get_args(HumanCommand)
TIMER_COMMANDS: tuple[type[Command], ...] = get_args(TimerCommand)
# Human commands nobody may give any more, kept so that recorded histories replay.
RETIRED_COMMANDS: tuple[type[Command], ...] = (ImportCertification,)

AnyCommand = Annotated[HumanCommand | TimerCommand, Field(discriminator="kind")]
"""Any command, told apart by its `kind`: `TypeAdapter(AnyCommand).validate_python({"kind": ...})`."""
