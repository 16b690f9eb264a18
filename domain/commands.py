"""Commands: what a person (or a timer) asks of one city's certification, in the imperative.

Each is a frozen model that checks its own shape; whether it is allowed *now* is the decider's
question. Timer commands carry no data: the deadline is in the state, the time comes from `now`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from domain.events import Answer, Document
from domain.levels import Level

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
CriterionId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def command_name(cls) -> str:
        return cls.__name__


def _unique(ids: list[str], what: str) -> None:
    dups = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dups:
        raise ValueError(f"{what} named more than once: {', '.join(dups)}")


class RegisterCity(Command):
    city_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
    name: NonEmpty
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]  # ISO 3166-1 alpha-2
    population: int = Field(ge=0)

    @field_validator("country", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class TakeDataSnapshot(Command):
    standard_version: NonEmpty
    answers: dict[CriterionId, Answer] = Field(min_length=1)


class ApplyForCertification(Command):
    cohort: NonEmpty
    standard_version: NonEmpty


class EvidenceItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: CriterionId
    documents: list[Document] = Field(min_length=1)
    narrative: str = ""


class SubmitEvidence(Command):
    items: list[EvidenceItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_item_per_criterion(self) -> SubmitEvidence:
        _unique([i.criterion_id for i in self.items], "criterion")
        return self


class CloseEvidenceSubmission(Command):
    pass


class AssignReviewer(Command):
    reviewer_id: NonEmpty
    reviewer_home_city: NonEmpty
    criterion_ids: list[CriterionId] = Field(min_length=1)

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
    note: str = ""

    @model_validator(mode="after")
    def _question_needs_words(self) -> ReviewItem:
        if self.decision is Verdict.REQUEST_CLARIFICATION and not self.note.strip():
            raise ValueError(
                f"a clarification request for {self.criterion_id} needs a note saying what to clarify"
            )
        return self


class ReviewEvidence(Command):
    reviewer_id: NonEmpty
    reviewer_home_city: NonEmpty
    items: list[ReviewItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_decision_per_criterion(self) -> ReviewEvidence:
        _unique([i.criterion_id for i in self.items], "criterion")
        return self


class ClarificationAnswer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    criterion_id: CriterionId
    answer: NonEmpty


class AnswerClarifications(Command):
    items: list[ClarificationAnswer] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_answer_per_criterion(self) -> AnswerClarifications:
        _unique([i.criterion_id for i in self.items], "criterion")
        return self


class ExpireClarifications(Command):
    """Timer: reject every item whose clarification answer is overdue."""


class EscalateOverdueReviews(Command):
    """Timer: escalate every item whose reviewer decision is overdue."""


class ScheduleSiteVisit(Command):
    visit_date: date


class CompleteSiteVisit(Command):
    findings: NonEmpty
    overturned: list[CriterionId] = []

    @model_validator(mode="after")
    def _unique_ids(self) -> CompleteSiteVisit:
        _unique(self.overturned, "overturned criterion")
        return self


class WaiveSiteVisit(Command):
    reason: NonEmpty


class DecideLevel(Command):
    level: Level | None  # None: not certified
    rationale: NonEmpty


class FileAppeal(Command):
    grounds: NonEmpty


class DecideAppeal(Command):
    upheld: bool
    level: Level | None = None  # the level granted when upheld
    rationale: NonEmpty


class CloseAppealWindow(Command):
    """Timer: the appeal window ended without an appeal."""


class SendReminder(Command):
    threshold_days: int = Field(gt=0)


class LapseCertification(Command):
    """Timer: the validity period ended without a new decision."""


class Withdraw(Command):
    reason: NonEmpty


class ImportCertification(Command):
    level: Level
    cohort: NonEmpty
    standard_version: NonEmpty
    valid_from: AwareDatetime
    valid_until: AwareDatetime

    @model_validator(mode="after")
    def _period(self) -> ImportCertification:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self
