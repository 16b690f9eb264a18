"""The API's JSON: request bodies (checked before anything reaches Temporal) and responses.

Bodies reuse the domain's ids, bounded text, bounds and item models where the shape is the
domain's own (review verdicts, clarification answers), so each constraint is defined once and
OpenAPI states it; each body turns into one domain command with `to_command`, which runs the
domain's own checks as well (a refusal there is a 422 too). Strings are bounded, moments and dates
are ISO 8601 text within sane years, so no input can reach the store that it would refuse for its
shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from app.commands import RunStatus
from app.countries import COUNTRY_DESCRIPTION, CountryNameOrCode
from app.days import end_of, start_of
from domain import Level
from domain import commands as cmd
from domain.events import Answer, Deadline
from domain.ids import CityId, CriterionId, Name, Note, Text
from domain.people import is_person_id
from domain.programme import SwitchMigrationMode
from domain.standard import ApplicationWindow
from domain.state import CitySummary

MIN_YEAR, MAX_YEAR = 1990, 2200

# RFC 3339, as OpenAPI's `date-time` and `date` formats say. Pydantic alone would also take a
# number (or a numeric string) as a Unix time, so `as_of=0.5` meant 1970: text only, in this shape.
_MOMENT_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DAY_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text_shaped(shape: re.Pattern[str], what: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not (isinstance(value, str) and shape.fullmatch(value)):
            raise ValueError(f"must be {what}")
        return value

    return BeforeValidator(check)


def _years(first: int, last: int) -> AfterValidator:
    def check(value: Any) -> Any:
        if not first <= value.year <= last:
            raise ValueError(f"must be in a year from {first} to {last}")
        return value

    return AfterValidator(check)


_ISO_MOMENT = _text_shaped(
    _MOMENT_TEXT, "an ISO 8601 moment with its UTC offset, such as 2026-03-01T09:00:00Z"
)
_ISO_DAY = _text_shaped(_DAY_TEXT, "an ISO 8601 date, such as 2026-03-01")
Moment = Annotated[AwareDatetime, _ISO_MOMENT, _years(MIN_YEAR, MAX_YEAR)]
Day = Annotated[date, _ISO_DAY, _years(MIN_YEAR, MAX_YEAR)]
AsOf = Annotated[AwareDatetime, _ISO_MOMENT, _years(1000, 9000)]  # any moment PostgreSQL and Python hold


PopulationYear = Annotated[int, Field(ge=cmd.MIN_POPULATION_YEAR, le=cmd.MAX_POPULATION_YEAR)]


C = TypeVar("C", bound=cmd.Command)


def checked(build: Callable[[], C]) -> C:
    """Build a domain command from a body; its own checks failing is a malformed body (422)."""
    try:
        return build()
    except ValidationError as e:
        errors = e.errors(include_url=False)  # the context too: the limits the words name
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in errors]) from e


class Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- requests --------------------------------------------------------------------------------------


class RegisterCityBody(Body):
    id: CityId = Field(examples=["lakeside"])
    name: Name = Field(examples=["Lakeside"])
    country: CountryNameOrCode = Field(
        description=COUNTRY_DESCRIPTION, examples=["CA", "Canada", "Brasil", "Estados Unidos", "mx"]
    )
    population: int = Field(ge=0, le=cmd.MAX_POPULATION, examples=[182_000])
    region: Name | None = Field(None, description="the state or province", examples=["Ohio"])
    population_source: Name | None = Field(
        None, description="where the population figure comes from", examples=["US Census"]
    )
    population_year: PopulationYear | None = Field(
        None, description="the year of that figure", examples=[2020]
    )

    def to_command(self) -> cmd.RegisterCity:
        return checked(
            lambda: cmd.RegisterCity(
                city_id=self.id,
                name=self.name,
                country=self.country,
                population=self.population,
                region=self.region,
                population_source=self.population_source,
                population_year=self.population_year,
            )
        )


class ImportCertificationBody(Body):
    """A certification the city earned before citycert, held from the start of `valid_from` (the
    day it was awarded, not in the future) through the end of `valid_until` (its last day, held
    whole), both days in UTC; it may last at most the programme's validity. It is a proposal
    until a committee member who did not propose it countersigns it, unless the store's migration
    mode is on."""

    level: Level
    standard_version: Name
    round_id: Name = Field(
        description="the round it was awarded in, as the programme named it", examples=["2024"]
    )
    valid_from: Day = Field(
        description="the day it was awarded: held from 00:00 UTC that day", examples=["2024-06-01"]
    )
    valid_until: Day = Field(
        description="its last day, inclusive: held until 00:00 UTC the day after", examples=["2027-05-31"]
    )

    @model_validator(mode="after")
    def _period(self) -> ImportCertificationBody:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until, the certification's last day, must not be before valid_from")
        return self

    def to_command(self, proposed_by: str) -> cmd.ProposeImport:
        # The domain keeps moments: the first day's start and the end of the last day, in UTC.
        fields = {
            **self.model_dump(exclude={"round_id"}),
            "cohort": self.round_id,
            "valid_from": start_of(self.valid_from),
            "valid_until": end_of(self.valid_until),
            "proposed_by": proposed_by,
        }
        return checked(lambda: cmd.ProposeImport.model_validate(fields))


class CountersignatureBody(Body):
    note: Note = ""

    def to_command(self, countersigned_by: str) -> cmd.CountersignImport:
        return checked(lambda: cmd.CountersignImport(countersigned_by=countersigned_by, note=self.note))


class ImportRejectionBody(Body):
    reason: Text = Field(examples=["the programme has no record of this certification"])

    def to_command(self, rejected_by: str) -> cmd.RejectImport:
        return checked(lambda: cmd.RejectImport(rejected_by=rejected_by, reason=self.reason))


class MigrationModeBody(Body):
    on: bool = Field(description="true: switch migration mode on; false: off")
    reason: Text = Field(examples=["bringing the 2018-2025 certifications into citycert"])

    def to_command(self) -> SwitchMigrationMode:
        return checked(lambda: SwitchMigrationMode(on=self.on, reason=self.reason))


class ReviewerAssignmentBody(Body):
    reviewer_id: Name = Field(examples=["rev-ana"])
    reviewer_home_city: CityId = Field(
        description="the city the reviewer may never review", examples=["riverton"]
    )
    criterion_ids: list[CriterionId] = Field(min_length=1, max_length=cmd.MAX_ITEMS, examples=[["DM1"]])

    def to_command(self) -> cmd.AssignReviewer:
        return checked(lambda: cmd.AssignReviewer.model_validate(self.model_dump()))


class WithdrawalBody(Body):
    reason: Text = Field(examples=["the city left the programme"])

    def to_command(self) -> cmd.Withdraw:
        return checked(lambda: cmd.Withdraw.model_validate(self.model_dump()))


class SnapshotBody(Body):
    standard_version: Name = Field(examples=["wwc-2022"])
    answers: dict[CriterionId, Answer] = Field(min_length=1, max_length=cmd.MAX_ITEMS)

    def to_command(self) -> cmd.TakeDataSnapshot:
        return checked(lambda: cmd.TakeDataSnapshot.model_validate(self.model_dump()))


class ApplicationBody(Body):
    round_id: Name = Field(
        description="an open round of the programme (GET /v1/rounds)", examples=["2026-fall"]
    )
    standard_version: Name = Field(examples=["wwc-2022"])

    def to_command(self) -> cmd.ApplyForCertification:
        return checked(
            lambda: cmd.ApplyForCertification(cohort=self.round_id, standard_version=self.standard_version)
        )


class EvidenceBody(Body):
    items: list[cmd.EvidenceItem] = Field(min_length=1, max_length=cmd.MAX_ITEMS)

    def to_command(self) -> cmd.SubmitEvidence:
        return checked(lambda: cmd.SubmitEvidence.model_validate(self.model_dump()))


class ReviewsBody(Body):
    items: list[cmd.ReviewItem] = Field(min_length=1, max_length=cmd.MAX_ITEMS)

    def to_command(self, reviewer_id: str, home_city: str) -> cmd.ReviewEvidence:
        fields = {**self.model_dump(), "reviewer_id": reviewer_id, "reviewer_home_city": home_city}
        return checked(lambda: cmd.ReviewEvidence.model_validate(fields))


class ClarificationsBody(Body):
    items: list[cmd.ClarificationAnswer] = Field(min_length=1, max_length=cmd.MAX_ITEMS)

    def to_command(self) -> cmd.AnswerClarifications:
        return checked(lambda: cmd.AnswerClarifications.model_validate(self.model_dump()))


class ScheduleVisitBody(Body):
    action: Literal["schedule"]
    date: Day

    def to_command(self) -> cmd.ScheduleSiteVisit:
        return checked(lambda: cmd.ScheduleSiteVisit(visit_date=self.date))


class CompleteVisitBody(Body):
    """A visit held: the one scheduled, or one that took place on `date` without being scheduled
    here first (not in the future). Each finding confirms a criterion's decision, overturns an
    approval (rejected) or clears a rejection seen met on site (approved)."""

    action: Literal["complete"]
    findings: Text = Field(description="what the visit found, in words")
    overturned: list[CriterionId] = Field(default=[], max_length=cmd.MAX_ITEMS)
    date: Day | None = Field(None, description="the day the visit took place; omitted: the day scheduled")
    criterion_findings: list[cmd.CriterionFinding] = Field(default=[], max_length=cmd.MAX_ITEMS)

    def to_command(self) -> cmd.CompleteSiteVisit:
        return checked(
            lambda: cmd.CompleteSiteVisit(
                findings=self.findings,
                overturned=self.overturned,
                visit_date=self.date,
                criterion_findings=self.criterion_findings,
            )
        )


class WaiveVisitBody(Body):
    action: Literal["waive"]
    reason: Text

    def to_command(self) -> cmd.WaiveSiteVisit:
        return checked(lambda: cmd.WaiveSiteVisit(reason=self.reason))


class RescheduleVisitBody(Body):
    action: Literal["reschedule"]
    date: Day
    reason: Text = Field(examples=["the mayor is away that week"])

    def to_command(self) -> cmd.RescheduleSiteVisit:
        return checked(lambda: cmd.RescheduleSiteVisit(visit_date=self.date, reason=self.reason))


# One body for the site-visit commands; `action` says which, and so which fields it takes
# (a union the schema states, rather than optional fields a check in code requires).
SiteVisitBody = Annotated[
    ScheduleVisitBody | CompleteVisitBody | WaiveVisitBody | RescheduleVisitBody,
    Field(discriminator="action"),
]


class DeadlineExtensionBody(Body):
    """Move a running deadline later: the cycle's (submission, visit_scheduling, committee) or a
    criterion's (review, clarification: name `criterion_id`). Who extends it is the token's."""

    deadline: Deadline
    criterion_id: CriterionId | None = Field(None, description="for a review or clarification deadline")
    due_at: Moment = Field(description="the new due moment, after the current one and after now")
    reason: Text = Field(examples=["the city's offices were closed by flooding"])

    def to_command(self, extended_by: str) -> cmd.ExtendDeadline:
        fields = {**self.model_dump(), "extended_by": extended_by}
        return checked(lambda: cmd.ExtendDeadline.model_validate(fields))


class DecisionBody(Body):
    level: Level | None = Field(description="silver, gold, platinum, or null: not certified")
    rationale: Text

    def to_command(self) -> cmd.DecideLevel:
        return checked(lambda: cmd.DecideLevel.model_validate(self.model_dump()))


class AppealBody(Body):
    grounds: Text
    criteria: list[CriterionId] = Field(
        default=[],
        max_length=cmd.MAX_ITEMS,
        description="the criteria contested: rejected ones, ones the site visit overturned, or any "
        "criterion when the city was not certified; none: the appeal contests a decision below the "
        "recommendation (cycles opened before criteria could be named take none)",
    )
    evidence: list[cmd.EvidenceItem] = Field(
        default=[],
        max_length=cmd.MAX_ITEMS,
        description="new evidence for contested criteria, as in POST /evidence: reviewed afresh if upheld",
    )

    def to_command(self) -> cmd.FileAppeal:
        return checked(lambda: cmd.FileAppeal.model_validate(self.model_dump()))


class AppealDecisionBody(Body):
    upheld: bool
    level: Level | None = Field(
        None,
        description="the level granted when an appeal against the decision alone is upheld; none "
        "when the appeal contests criteria (upheld, they go to a fresh reviewer, and the committee "
        "decides the new recommendation)",
    )
    rationale: Text

    def to_command(self) -> cmd.DecideAppeal:
        return checked(lambda: cmd.DecideAppeal.model_validate(self.model_dump()))


# Reviewers: practice areas, the lead, conflicts, sign-off. A reviewer named by a person's id gets
# their home city and declared conflicts from their record (the body's home city is then ignored);
# one named by a token identity needs its home city given.

_REVIEWER_ID = Field(
    description="the reviewer: a person's id (per_...), or a reviewer token's identity",
    examples=["per_3f2a9c0d1e4b5a6f"],
)
_HOME_CITY = Field(
    None,
    description="the reviewer's home city, which they never review: needed only for a reviewer who is "
    "not a person of the registry (a person's comes from their record)",
    examples=["riverton"],
)


def _home_city(reviewer_id: str, home_city: str | None) -> str:
    if home_city is not None:
        return home_city
    if is_person_id(reviewer_id):
        return "unknown"  # the command service fills it from the person's record
    raise RequestValidationError(
        [
            {
                "loc": ("body", "reviewer_home_city"),
                "msg": "give reviewer_home_city for a reviewer who is not a person of the registry",
                "type": "value_error",  # a sentence of its own (app/problems.py keeps it)
            }
        ]
    )


class PracticeAreaAssignmentBody(Body):
    reviewer_id: Name = _REVIEWER_ID
    reviewer_home_city: CityId | None = _HOME_CITY
    practice_area: Name = Field(description="a practice area id of the cycle's standard", examples=["DM"])

    def to_command(self) -> cmd.AssignPracticeArea:
        home = _home_city(self.reviewer_id, self.reviewer_home_city)
        return checked(
            lambda: cmd.AssignPracticeArea(
                reviewer_id=self.reviewer_id, reviewer_home_city=home, practice_area=self.practice_area
            )
        )


class ReopeningBody(Body):
    criterion_id: CriterionId
    reason: Text = Field(
        examples=["the approval cited the 2019 inventory; the criterion asks for a current one"]
    )

    def to_command(self, reopened_by: str) -> cmd.ReopenReviewItem:
        return checked(
            lambda: cmd.ReopenReviewItem(
                criterion_id=self.criterion_id, reason=self.reason, reopened_by=reopened_by
            )
        )


class LeadReviewerBody(Body):
    reviewer_id: Name = _REVIEWER_ID
    reviewer_home_city: CityId | None = _HOME_CITY

    def to_command(self) -> cmd.AssignLeadReviewer:
        home = _home_city(self.reviewer_id, self.reviewer_home_city)
        return checked(lambda: cmd.AssignLeadReviewer(reviewer_id=self.reviewer_id, reviewer_home_city=home))


class ConflictBody(Body):
    reason: Text = Field(examples=["consulted for the city's data office in 2025"])

    def to_command(self, reviewer_id: str) -> cmd.DeclareConflict:
        return checked(lambda: cmd.DeclareConflict(reviewer_id=reviewer_id, reason=self.reason))


class SignOffBody(Body):
    note: Note = ""

    def to_command(self, reviewer_id: str) -> cmd.SignOffReview:
        return checked(lambda: cmd.SignOffReview(reviewer_id=reviewer_id, note=self.note))


class ProfileCorrectionBody(Body):
    """What the city's profile should say: the fields given are corrected, the rest stay."""

    name: Name | None = None
    population: int | None = Field(None, ge=0, le=cmd.MAX_POPULATION, examples=[190_500])
    population_source: Name | None = Field(None, examples=["2025 state estimate"])
    population_year: PopulationYear | None = Field(None, examples=[2025])
    region: Name | None = Field(None, description="the state or province", examples=["Ohio"])
    reason: Text = Field(examples=["the registration used the 2010 census"])

    def to_command(self, corrected_by: str) -> cmd.CorrectCityProfile:
        fields = {**self.model_dump(), "corrected_by": corrected_by}
        return checked(lambda: cmd.CorrectCityProfile.model_validate(fields))


class PastCertificationBody(Body):
    """A certification the city held before citycert and that has ended: history, which its first
    re-certification compares with. Dates are plain dates (the day's start, UTC)."""

    level: Level
    standard_version: Name = Field(examples=["wwc-2018"])
    round_id: Name = Field(
        description="the round it was awarded in, as the programme named it", examples=["2019"]
    )
    valid_from: Day = Field(examples=["2019-06-01"])
    valid_until: Day = Field(examples=["2022-06-01"])

    def to_command(self, imported_by: str) -> cmd.ImportPastCertification:
        return checked(
            lambda: cmd.ImportPastCertification(
                level=self.level,
                cohort=self.round_id,
                standard_version=self.standard_version,
                valid_from=start_of(self.valid_from),
                valid_until=start_of(self.valid_until),
                imported_by=imported_by,
            )
        )


# --- responses -------------------------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class EventOut(Out):
    event_id: UUID
    type: str
    occurred_at: datetime
    data: dict[str, Any]


class CommandOut(Out):
    """What a command recorded, and where the city stands after it."""

    city_id: str
    events: list[EventOut]
    status: CitySummary


class WorkflowRestartOut(Out):
    """A city workflow's new run, started from the city's events folded; nothing was recorded."""

    city_id: str
    workflow_id: str = Field(description="`city-<city_id>`, the same through every run")
    run_id: str = Field(description="the new run's id")
    previous: RunStatus = Field(description="how the last run ended (`missing`: there was none)")
    status: CitySummary = Field(description="where the city stands: the new run's state")


class DocumentOut(Out):
    """An uploaded document, stored by its SHA-256 and recorded in the city's history."""

    document_id: str = Field(description="the document's id in the city's documents")
    sha256: str = Field(description="the SHA-256 of its bytes, in lowercase hex")
    size: int = Field(description="its size in bytes")
    media_type: str = Field(description="its media type, recognised from its content")


class ImportOut(CommandOut):
    """A proposed (or, in migration mode, recorded) import: the events hold the moments its days
    begin and end; these are the days, as given."""

    valid_from: date = Field(description="the day it was awarded (held from 00:00 UTC)")
    valid_until: date = Field(description="its last day, inclusive (held until 00:00 UTC the day after)")


class SnapshotOut(CommandOut):
    standard_version: str
    points: int
    score: float
    indicative_level: Level | None
    roadmap: list[str] = Field(description="criteria not yet met, in the standard's order")
    blocked_by: dict[str, list[str]] = Field(
        default={},
        description="for a roadmap criterion that cannot earn its point yet, the unmet prerequisites "
        'blocking it: {"DM2": ["DM1"]} reads "DM2 blocked by DM1"',
    )


class MigrationModeSwitchOut(Out):
    on: bool
    switched_by: str
    switched_at: datetime
    reason: str


class MigrationModeOut(Out):
    """Whether an operator's import is recorded without a committee countersignature (on), since
    when, by whom and why; and every switch of it, oldest first."""

    on: bool
    since: datetime | None
    switched_on_by: str | None
    reason: str | None
    switches: list[MigrationModeSwitchOut]


class ActorOut(Out):
    role: str
    id: str


class EnvelopeOut(Out):
    event_id: UUID
    version: int
    type: str
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    actor: ActorOut
    workflow_id: str | None
    run_id: str | None
    data: dict[str, Any]


class ValidationProblem(Out):
    """One thing wrong with a request: where (`["body", "items", 0, "criterion_id"]`), what, in
    words, and pydantic's error type."""

    loc: list[str | int]
    msg: str = Field(
        description="a sentence naming the field and what to send, never a pattern",
        examples=["name must be at most 200 characters"],
    )
    type: str


class RefusalData(Out):
    """The domain's refusal as data, so a client can say it in its own language: `detail` is the
    English `template` filled with `params`. The portal's catalogs translate the templates."""

    template: str = Field(
        description="the English words, naming each value {like_this} (Python's str.format: a list's "
        "spec says how it is joined, :or with 'or', :; with semicolons, else commas; !r quotes a word)",
        examples=["round {round} closed for applications on {day}"],
    )
    params: dict[str, dict[str, Any]] = Field(
        description="each value by name, tagged with its kind: {'str': 'lakeside'}, {'int': 3}, "
        "{'float': 0.67}, {'decimal': '1.50'}, {'date': '2026-03-01'}, {'datetime': "
        "'2026-03-01T09:00:00+00:00'}, {'label': ['Phase', 'evidence']} (a phase, level, status or "
        "command, in English its value), {'english': '...'} (words in English only), {'quoted': ['...', "
        "{'template': ..., 'params': ...}]} (a library's English words, then a refusal saying what they "
        "mean), {'list': [...]}, "
        "{'refusal': {'template': ..., 'params': ...}} (a refusal inside this one)",
        examples=[{"round": {"str": "2026-spring"}, "day": {"date": "2026-04-30"}}],
    )


class Problem(Out):
    """Every error: a machine-readable `error` and a `detail` a person can act on."""

    error: str = Field(description="a stable code, e.g. unknown_city, command_rejected, invalid_request")
    detail: str | list[ValidationProblem] = Field(
        description="what went wrong and what to do; for invalid_request, every problem found"
    )
    refusal: RefusalData | None = Field(
        default=None,
        description="for a refusal by the programme's rules (command_rejected, too_frequent, "
        "invalid_command, ineligible_city...) or of a token (unknown_token, token_revoked), its "
        "words as data; absent for every other error",
    )


class TokenOut(Out):
    """An API token as an operator sees it: never its secret nor its hash."""

    id: str = Field(description="the token's public id, e.g. tok_0123456789ab")
    role: Literal["city", "reviewer", "committee", "operator"]
    subject: str = Field(description="the identity it speaks for: the actor id of the events it causes")
    city_id: str | None = Field(description="the city of a city token; a reviewer's home city")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="when it last authenticated (to the minute)")
    revoked_at: datetime | None
    replaced_by: str | None = Field(description="the token that replaced it, when it was rotated")
    status: Literal["active", "expired", "revoked"]


class RotatedTokenOut(Out):
    """The new token of a rotation and its secret, shown this once (the old token is revoked)."""

    token: TokenOut
    secret: str = Field(description="the new token's secret: send it as `Authorization: Bearer <secret>`")


class AreaAssignmentOut(Out):
    practice_area: str
    reviewer_id: str
    criterion_ids: list[str] = Field(description="its criteria waiting for a reviewer, now theirs")


class AutomaticAssignmentOut(Out):
    """The practice areas handed out, each to the least loaded eligible reviewer, and the events."""

    city_id: str
    assignments: list[AreaAssignmentOut]
    events: list[EventOut]
    status: CitySummary


class StandardSummary(Out):
    """A shipped standard in the listing: its newest revision and when cities may apply under it."""

    version: str
    revision: int = Field(description="the newest revision, which new cycles are reviewed against")
    revisions: list[int] = Field(description="every shipped revision, oldest first")
    name: str
    open_for_applications: ApplicationWindow
    open_now: bool = Field(description="whether a city may apply under it today")
    share_rounding: str = Field(description="how a share is compared with the bands")


class ReasonBody(Body):
    """A programme's action on a city, with the reason it is taken (recorded in the event)."""

    reason: Text = Field(examples=["the data portal the certification rests on was taken offline"])


class SuspensionBody(ReasonBody):
    def to_command(self, by: str) -> cmd.SuspendCertification:
        return checked(lambda: cmd.SuspendCertification(reason=self.reason, suspended_by=by))


class ReinstatementBody(ReasonBody):
    def to_command(self, by: str) -> cmd.ReinstateCertification:
        return checked(lambda: cmd.ReinstateCertification(reason=self.reason, reinstated_by=by))


class RevocationBody(ReasonBody):
    def to_command(self, by: str) -> cmd.RevokeCertification:
        return checked(lambda: cmd.RevokeCertification(reason=self.reason, revoked_by=by))


class RejoiningBody(ReasonBody):
    def to_command(self, by: str) -> cmd.RejoinProgramme:
        return checked(lambda: cmd.RejoinProgramme(reason=self.reason, rejoined_by=by))
