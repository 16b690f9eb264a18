"""The programme's timings and margins: settings carried into every decision, not constants."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from domain.levels import Level

# How many recent snapshot times a city's state keeps: the most snapshots_per_day can be.
SNAPSHOTS_REMEMBERED = 24


class ProgrammePolicy(BaseModel):
    """Defaults are the ones comparable programmes use (a 30-day appeal window, 3 years of validity...);
    a programme sets its own through settings."""

    model_config = ConfigDict(frozen=True)

    clarification_window: timedelta = timedelta(days=25)
    reviewer_sla: timedelta = timedelta(days=10)
    appeal_window: timedelta = timedelta(days=30)
    # A certification is valid this many calendar years from its award moment
    # (domain/calendar.add_years); cycles decided before the ROUNDS rules counted 365 days a year.
    validity_years: int = Field(3, ge=1, le=10)
    reminder_days: tuple[int, ...] = (180, 90, 30)
    # How long before a due date its people are told it is near: a reviewer's decision, a city's
    # answer to a question.
    review_warning: timedelta = timedelta(days=2)
    clarification_warning: timedelta = timedelta(days=5)
    # A city not certified but within this share of the Silver bar is named on the Honor Roll.
    honor_roll_margin: float = Field(0.05, ge=0, le=1)
    # Data snapshots a city may take in any 24 hours: a self-assessment is re-taken when answers
    # change, not in a loop (a flood of them was the cheapest way to fill a workflow's history).
    snapshots_per_day: int = Field(10, ge=1, le=SNAPSHOTS_REMEMBERED)
    # Each phase's clock (cycles under the programme's review rules), with how long before its
    # end people are told it is near: the city's evidence from its application, scheduling the
    # site visit from the review's completion, the committee's decision from the recommendation.
    # Our choices; a deadline can be extended (ExtendDeadline).
    submission_window: timedelta = timedelta(days=90)
    submission_warning: timedelta = timedelta(days=14)
    visit_scheduling_window: timedelta = timedelta(days=30)
    visit_scheduling_warning: timedelta = timedelta(days=7)
    committee_sla: timedelta = timedelta(days=30)
    committee_warning: timedelta = timedelta(days=7)
    # Clarification answers due in this many business days (Monday to Friday, not `holidays`)
    # instead of clarification_window, as LEED counts its 25; None: calendar days.
    clarification_business_days: int | None = Field(None, ge=1, le=365)
    holidays: tuple[date, ...] = ()
    # How many times a criterion may be submitted again, in a cycle, after a clarification of it
    # expired unanswered (0: never); cycles under the first rules allow any number.
    resubmissions_after_expiry: int = Field(1, ge=0, le=100)
    # The recommended levels whose review the cycle's lead reviewer signs off (a second review)
    # before the committee decides: the highest level by default, where a mistake costs most.
    lead_signoff_levels: tuple[Level, ...] = (Level.PLATINUM,)
    # How long a city found not certified waits before it may apply again (0: it may at once).
    reapply_wait: timedelta = timedelta(0)

    @property
    def validity_in_days(self) -> timedelta:
        """The validity as the first rules counted it: 365 days a year (1,095 for three)."""
        return timedelta(days=365 * self.validity_years)

    @field_validator(
        "clarification_window",
        "reviewer_sla",
        "appeal_window",
        "review_warning",
        "clarification_warning",
        "submission_window",
        "submission_warning",
        "visit_scheduling_window",
        "visit_scheduling_warning",
        "committee_sla",
        "committee_warning",
    )
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be a positive duration")
        return value

    @field_validator("reapply_wait")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value

    @field_validator("reminder_days")
    @classmethod
    def _descending_positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(d <= 0 for d in value):
            raise ValueError("reminder days must be positive")
        return tuple(sorted(set(value), reverse=True))
