"""City scenarios as data: who gives which command, after how long, and what must come out.

A scenario is a named list of steps. Each step is a typed domain command with its actor, the time
that passes before it (`after`: the appeal window, the clarification deadline, the validity), and
the events it must record, or the words of its refusal. Timer commands (CloseAppealWindow,
ExpireClarifications, LapseCertification) are steps too: the pure and store runners give them at
their moment, the Temporal runners only let the time pass and the workflow's own timer gives them.

Every layer has a runner with one interface, `await runner(scenario) -> Outcome`, next to its
contract test `test_scenarios.py`: the decider (tests/unit/domain), the event store and its read
model (tests/integration/readmodel), the workflow's `give` Update (tests/integration/workflows) and
the HTTP API (tests/integration/entrypoints/http). `assert_meets` is the contract each outcome must
meet; the decider's outcome is the reference the other layers' summaries are compared with.

Times are not compared: each runner starts from its own clock (the decider and store runners a
fixed T0, the Temporal runners the time-skipping server's, which starts from the real now). An
outcome holds each event's type and actor, not its payload (whose deadlines and validity are
times), and a summary's one time field, `valid_until`, is compared only for being set or not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from domain import Actor, Level, Phase, ProgrammePolicy
from domain import commands as cmd
from domain import events as ev
from domain.rounds import CreateRound
from domain.standard import get_standard
from domain.state import CitySummary
from workflows.contracts import TIMER, GiveCommand, command_proof

DAY = timedelta(days=1)
STANDARD = "wwc-2022"
# In earning order: the level requirements (the equity practices, a resident outcome) come first
# and every prefix earns all its points, so a prefix's level is its share's.
CRITERIA = list(get_standard(STANDARD).in_earning_order())
SILVER_SCORE = CRITERIA[:23]  # 23 of 43 with the equity and outcome requirements: Silver (>= 51 %)
GOLD_SCORE = CRITERIA[:30]  # 30 of 43 with them: Gold (>= 68 %)
DOCS = [ev.Document(title="Evidence pack", url="https://example.org/pack.pdf")]


def slotted_documents(criterion_id: str, standard: str = STANDARD) -> list[ev.Document]:
    """A complete worksheet's documents for the criterion: one in each required-document slot,
    and the evidence pack beside them (supporting, in no slot)."""
    wanted = get_standard(standard).criterion(criterion_id).required_documents
    slug = criterion_id.replace(" ", "-").lower()
    return [
        *(
            ev.Document(title=title[:200], url=f"https://example.org/{slug}/{n}.pdf", slot=n)
            for n, title in enumerate(wanted, start=1)
        ),
        *DOCS,
    ]


def enough_items(criterion_id: str, standard: str = STANDARD) -> list[int]:
    """The checklist items a complete worksheet claims and a reviewer finds met: the first k of
    the criterion's "k of n"."""
    return list(range(1, get_standard(standard).criterion(criterion_id).checklist.min_met + 1))


def complete_evidence(criterion_id: str) -> cmd.EvidenceItem:
    """Evidence an approval can stand on: every required document in its slot, k items claimed."""
    return cmd.EvidenceItem(
        criterion_id=criterion_id,
        documents=slotted_documents(criterion_id),
        claims=enough_items(criterion_id),
    )


def evidence_json(criterion_id: str, **fields: Any) -> dict[str, Any]:
    """complete_evidence as a request body's item (fields such as a narrative added)."""
    return {**complete_evidence(criterion_id).model_dump(mode="json", exclude_defaults=True), **fields}


def approval_json(criterion_id: str) -> dict[str, Any]:
    """complete_approval as a request body's item."""
    return complete_approval(criterion_id).model_dump(mode="json", exclude_defaults=True)


def complete_approval(criterion_id: str, note: str = "") -> cmd.ReviewItem:
    """An approval that finds the criterion's k checklist items met."""
    return cmd.ReviewItem(
        criterion_id=criterion_id,
        decision=cmd.Verdict.APPROVE,
        note=note,
        checklist_met=enough_items(criterion_id),
    )


HOME_CITY = "riverton"  # where the reviewers live: never a city a scenario walks

OPERATOR = Actor(role="operator", id="op-1")
CITY_STAFF = Actor(role="city", id="staff-1")
REVIEWER = Actor(role="reviewer", id="rev-ana")
COMMITTEE = Actor(role="committee", id="chair")
LEAD = Actor(role="reviewer", id="rev-lead")  # a cycle's lead reviewer

# The command key of the tests' workers (CITYCERT_COMMAND_KEY for worker processes): every command
# a test gives a workflow directly is signed with it, as the application layer signs them.
TEST_COMMAND_KEY = b"tests-command-key-0123456789abcdef0123456789"


def signed(city_id: str, command: cmd.Command, actor: Actor, request_id: str = "") -> GiveCommand:
    """The `give` Update's argument for `command`, with the proof the workflow checks."""
    return GiveCommand.model_validate(
        {
            "command": command,
            "actor": actor,
            "proof": command_proof(TEST_COMMAND_KEY, city_id, actor, command, request_id),
            "request_id": request_id,
        }
    )


# A command that names a calendar date (a site visit's) is written as a function of the moment it
# is given, so the same step works on every runner's clock.
CommandAt = Callable[[datetime], cmd.Command]


@dataclass(frozen=True)
class Step:
    command: cmd.Command | CommandAt
    actor: Actor
    then: Sequence[type[ev.DomainEvent]] = ()  # the events it records, in order
    after: timedelta = timedelta(0)  # the time that passes before it is given
    refused: str | None = None  # words its refusal's message must contain (then it records nothing)

    def command_at(self, now: datetime) -> cmd.Command:
        return self.command if isinstance(self.command, cmd.Command) else self.command(now)

    @property
    def is_timer(self) -> bool:
        """Given by the workflow's own timer, never by a person."""
        return self.actor == TIMER


@dataclass(frozen=True)
class Scenario:
    name: str
    city_id: str
    steps: Sequence[Step]
    phase: Phase | None  # where the city ends; None: nothing was ever recorded
    level: Level | None = None

    @property
    def event_types(self) -> list[str]:
        return [e.event_type() for step in self.steps for e in step.then]

    @property
    def actors(self) -> list[Actor]:
        """Who each event names, in order: the actor of the step that recorded it."""
        return [step.actor for step in self.steps for _ in step.then]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Recorded:
    type: str
    actor: Actor


@dataclass(frozen=True)
class Outcome:
    """What a layer recorded for a scenario: the city's stream, each refusal's message, the summary
    (None when nothing was recorded for the city)."""

    events: list[Recorded]
    refusals: list[str] = field(default_factory=list)
    summary: CitySummary | None = None

    @property
    def event_types(self) -> list[str]:
        return [e.type for e in self.events]


def comparable(summary: CitySummary | None) -> dict[str, Any] | None:
    """The summary without its time fields, `valid_from` and `valid_until`, which say only whether
    they are set, and the certificate number's year (the award's, on each runner's own clock)."""
    if summary is None:
        return None
    number = summary.certificate_number
    return summary.model_dump(exclude={"valid_from", "valid_until", "certificate_number"}) | {
        "certified_from_set": summary.valid_from is not None,
        "certified_until_set": summary.valid_until is not None,
        "certificate": number.split("-", 2)[2] if number else None,
    }


def assert_meets(outcome: Outcome, scenario: Scenario, reference: Outcome | None = None) -> None:
    """The contract: the scenario's events in order, each naming its step's actor; each refused
    step refused for its reason; the city where the scenario says; the reference's summary."""
    assert outcome.event_types == scenario.event_types, scenario.name
    assert [e.actor for e in outcome.events] == scenario.actors, scenario.name
    expected_refusals = [s.refused for s in scenario.steps if s.refused is not None]
    assert len(outcome.refusals) == len(expected_refusals), (scenario.name, outcome.refusals)
    for message, words in zip(outcome.refusals, expected_refusals, strict=True):
        assert words in message, (scenario.name, message)
    if scenario.phase is None:
        assert outcome.summary is None, (scenario.name, outcome.summary)
    else:
        assert outcome.summary is not None, scenario.name
        assert (outcome.summary.phase, outcome.summary.level) == (scenario.phase, scenario.level)
        assert outcome.summary.version == len(scenario.event_types), scenario.name
    if reference is not None:
        assert comparable(outcome.summary) == comparable(reference.summary), scenario.name


# --- steps ---------------------------------------------------------------------------------------


def register(city_id: str, population: int = 182_000, country: str = "US") -> Step:
    name = city_id.replace("-", " ").title()
    command = cmd.RegisterCity(city_id=city_id, name=name, country=country, population=population)
    return Step(command, OPERATOR, [ev.CityRegistered])


def snapshot(met: list[str]) -> Step:
    answers = dict.fromkeys(met, ev.Answer.MET)
    return Step(
        cmd.TakeDataSnapshot(standard_version=STANDARD, answers=answers), CITY_STAFF, [ev.DataSnapshotTaken]
    )


def open_round(round_id: str) -> cmd.ApplicationRound:
    """The round an application names, as the application layer reads it from the programme's
    records: open around every test's moment (the HTTP runner's server reads its own records)."""
    return cmd.ApplicationRound(round_id=round_id, opens_on=date(2000, 1, 1), closes_on=date(2099, 12, 31))


def round_record(round_id: str, capacity: int = 100) -> CreateRound:
    """The programme's record of the round `open_round` describes: applications from 2000 to
    2099, announced after (the tests that read an announcement create rounds of their own dates)."""
    window = open_round(round_id)
    return CreateRound(
        round_id=round_id,
        name=round_id,
        opens_on=window.opens_on,
        closes_on=window.closes_on,
        submission_deadline=date(2100, 1, 1),
        announcement_on=date(2100, 1, 2),
        review_capacity=capacity,
    )


def apply(cohort: str) -> Step:
    command = cmd.ApplyForCertification(cohort=cohort, standard_version=STANDARD, round=open_round(cohort))
    return Step(command, CITY_STAFF, [ev.ApplicationSubmitted, ev.DeadlineSet])  # the submission's clock


def reapply(cohort: str, after: timedelta = timedelta(0)) -> Step:
    """Apply again while certified: a re-certification."""
    command = cmd.ApplyForCertification(cohort=cohort, standard_version=STANDARD, round=open_round(cohort))
    return Step(command, CITY_STAFF, [ev.RecertificationStarted, ev.DeadlineSet], after=after)


def evidence(criteria: list[str]) -> Step:
    """Complete evidence for each criterion: its required documents in their slots, k items claimed."""
    items = [complete_evidence(c) for c in criteria]
    return Step(cmd.SubmitEvidence(items=items), CITY_STAFF, [ev.EvidenceSubmitted] * len(criteria))


def assign(criteria: list[str], reviewer: Actor = REVIEWER) -> Step:
    command = cmd.AssignReviewer(
        reviewer_id=reviewer.id, reviewer_home_city=HOME_CITY, criterion_ids=criteria
    )
    return Step(command, OPERATOR, [ev.ReviewerAssigned] * len(criteria))


def declare_no_conflict(reviewer: Actor = REVIEWER) -> Step:
    return Step(cmd.DeclareNoConflict(reviewer_id=reviewer.id), reviewer, [ev.NoConflictDeclared])


def declare_conflict(reviewer: Actor = REVIEWER, reason: str = "consulted for the city in 2025") -> Step:
    return Step(cmd.DeclareConflict(reviewer_id=reviewer.id, reason=reason), reviewer, [ev.ConflictDeclared])


def assigned_and_declared(criteria: list[str], reviewer: Actor = REVIEWER) -> list[Step]:
    """What comes before a review under the latest rules: the operator assigns the reviewer the
    criteria, and the reviewer declares no conflict with the city."""
    return [assign(criteria, reviewer), declare_no_conflict(reviewer)]


def assign_lead(reviewer: Actor = LEAD) -> Step:
    command = cmd.AssignLeadReviewer(reviewer_id=reviewer.id, reviewer_home_city=HOME_CITY)
    return Step(command, OPERATOR, [ev.LeadReviewerAssigned])


def assign_area(area: str, reviewer: Actor = REVIEWER, *, waiting: int = 0) -> Step:
    """The reviewer takes a practice area, and the `waiting` criteria of it awaiting a reviewer."""
    command = cmd.AssignPracticeArea(
        reviewer_id=reviewer.id, reviewer_home_city=HOME_CITY, practice_area=area
    )
    return Step(command, OPERATOR, [ev.PracticeAreaAssigned, *[ev.ReviewerAssigned] * waiting])


def signed_off_if_needed(approved: list[str]) -> list[Step]:
    """The lead reviewer's sign-off, before the committee decides, when the criteria approved are
    recommended a level the programme signs off (ProgrammePolicy.lead_signoff_levels)."""
    level = get_standard(STANDARD).score(approved).level
    if level not in ProgrammePolicy().lead_signoff_levels:
        return []
    return [assign_lead(), declare_no_conflict(LEAD), sign_off()]


def sign_off(reviewer: Actor = LEAD, refused: str | None = None) -> Step:
    command = cmd.SignOffReview(reviewer_id=reviewer.id, note="the evidence holds up")
    return Step(command, reviewer, [] if refused else [ev.ReviewSignedOff], refused=refused)


def review(
    approve: Sequence[str] = (),
    reject: Sequence[str] = (),
    clarify: Sequence[str] = (),
    *,
    reviewer: Actor = REVIEWER,
    home_city: str = HOME_CITY,
    refused: str | None = None,
) -> Step:
    """One reviewer's verdicts: approvals (finding each criterion's k checklist items met), then
    rejections, then clarification requests."""
    verdicts = [
        *[(c, cmd.Verdict.REJECT, "The inventory is two years old") for c in reject],
        *[(c, cmd.Verdict.REQUEST_CLARIFICATION, "Which year?") for c in clarify],
    ]
    items = [complete_approval(c) for c in approve]
    items += [cmd.ReviewItem(criterion_id=c, decision=v, note=note) for c, v, note in verdicts]
    command = cmd.ReviewEvidence(reviewer_id=reviewer.id, reviewer_home_city=home_city, items=items)
    then = (
        [ev.EvidenceApproved] * len(approve)
        + [ev.EvidenceRejected] * len(reject)
        + [ev.ClarificationRequested] * len(clarify)
    )
    return Step(command, reviewer, [] if refused else then, refused=refused)


def answer(criteria: list[str], after: timedelta = timedelta(0)) -> Step:
    items = [cmd.ClarificationAnswer(criterion_id=c, answer="The 2025 inventory") for c in criteria]
    return Step(
        cmd.AnswerClarifications(items=items), CITY_STAFF, [ev.ClarificationAnswered] * len(criteria), after
    )


def close(review_completes: bool = True) -> Step:
    """Close the submission; the review completes with it when no item is open (and the clock of
    the visit's scheduling starts)."""
    completed: list[type[ev.DomainEvent]] = (
        [ev.EvidenceReviewCompleted, ev.DeadlineSet] if review_completes else []
    )
    return Step(cmd.CloseEvidenceSubmission(), CITY_STAFF, [ev.EvidenceSubmissionClosed, *completed])


def waive_visit(reason: str = "visited virtually") -> Step:
    # The recommendation starts the committee's clock.
    then = [ev.SiteVisitWaived, ev.LevelRecommended, ev.DeadlineSet]
    return Step(cmd.WaiveSiteVisit(reason=reason), COMMITTEE, then)


def schedule_visit(in_days: int) -> Step:
    def on(now: datetime) -> cmd.Command:
        return cmd.ScheduleSiteVisit(visit_date=(now + in_days * DAY).date())

    return Step(on, COMMITTEE, [ev.SiteVisitScheduled])


def complete_visit(after: timedelta) -> Step:
    command = cmd.CompleteSiteVisit(findings="All as described")
    then = [ev.SiteVisitCompleted, ev.LevelRecommended, ev.DeadlineSet]
    return Step(command, COMMITTEE, then, after=after)


def decide(level: Level | None, rationale: str = "as recommended") -> Step:
    then = [ev.LevelDecided] if level else [ev.CityNotCertified]
    return Step(cmd.DecideLevel(level=level, rationale=rationale), COMMITTEE, then)


def appeal(after: timedelta) -> Step:
    return Step(
        cmd.FileAppeal(grounds="the visit missed our open data portal"), CITY_STAFF, [ev.AppealFiled], after
    )


def uphold_appeal(level: Level) -> Step:
    command = cmd.DecideAppeal(upheld=True, level=level, rationale="the portal was there")
    return Step(command, COMMITTEE, [ev.AppealDecided, ev.CertificationAwarded])


def accept_decision(after: timedelta = DAY) -> Step:
    """The city accepts the decision: the award comes at once, not when the window closes."""
    return Step(cmd.AcceptDecision(), CITY_STAFF, [ev.DecisionAccepted, ev.CertificationAwarded], after)


def appeal_window_closes() -> Step:
    """Thirty days without an appeal: the certification is awarded."""
    return Step(cmd.CloseAppealWindow(), TIMER, [ev.CertificationAwarded], after=31 * DAY)


def due_dates_near(after: timedelta, *told: type[ev.DomainEvent]) -> Step:
    """A due date comes near: the workflow tells its people (ReviewDueSoon, ClarificationDueSoon)."""
    return Step(cmd.WarnOfDueDates(), TIMER, list(told), after=after)


def clarifications_expire(after: timedelta) -> Step:
    """The deadline passes with the submission closed and nothing else open: the review completes."""
    then: list[type[ev.DomainEvent]] = [ev.ClarificationExpired, ev.EvidenceReviewCompleted, ev.DeadlineSet]
    return Step(cmd.ExpireClarifications(), TIMER, then, after=after)


def deadlines_missed(after: timedelta, *escalated: type[ev.DomainEvent]) -> Step:
    """A phase's deadline passes: the workflow escalates it (SubmissionOverdue, ...)."""
    return Step(cmd.EscalateMissedDeadlines(), TIMER, list(escalated), after=after)


def certification_lapses(after: timedelta) -> Step:
    return Step(cmd.LapseCertification(), TIMER, [ev.CertificationEnded], after=after)


def to_committee(application: Step, approved: list[str]) -> list[Step]:
    """From registered (or certified) to the committee: the application, evidence for `approved`,
    all approved, submission closed, visit waived; a level is recommended from those criteria, and
    the lead reviewer signs it off where the programme asks."""
    return [
        application,
        evidence(approved),
        *assigned_and_declared(approved),
        review(approve=approved),
        close(),
        waive_visit(),
        *signed_off_if_needed(approved),
    ]


def certify(application: Step, approved: list[str], level: Level) -> list[Step]:
    """A whole cycle: to the committee, `level` decided, the appeal window closes: awarded."""
    return [*to_committee(application, approved), decide(level), appeal_window_closes()]


# --- the scenarios ---------------------------------------------------------------------------------


def silver_cycle(
    city_id: str,
    *,
    cohort: str = "2026-fall",
    evidence_batches: Sequence[list[str]] = (SILVER_SCORE,),
    review_batches: Sequence[list[str]] = (SILVER_SCORE,),
) -> Scenario:
    """Registration to Silver without a snapshot, evidence and reviews in batches: the walk the
    fault and deployment tests drive many cities through at once."""
    return Scenario(
        f"{city_id}: registration to Silver in batches",
        city_id,
        [
            register(city_id),
            apply(cohort),
            *[evidence(batch) for batch in evidence_batches],
            *assigned_and_declared([c for batch in evidence_batches for c in batch]),
            *[review(approve=batch) for batch in review_batches],
            close(),
            waive_visit(),
            decide(Level.SILVER),
            appeal_window_closes(),
        ],
        Phase.CERTIFIED,
        Level.SILVER,
    )


REGISTRATION_TO_SILVER = Scenario(
    "registration to Silver: snapshot, application, evidence, review, waived visit, decision, award",
    "lakeside",
    [
        register("lakeside"),
        snapshot(SILVER_SCORE),
        apply("2026-spring"),
        evidence(SILVER_SCORE),
        *assigned_and_declared(SILVER_SCORE),
        review(approve=SILVER_SCORE),
        close(),
        waive_visit(),
        decide(Level.SILVER),
        appeal_window_closes(),
    ],
    Phase.CERTIFIED,
    Level.SILVER,
)

GOLD_WITH_VISIT_AND_CLARIFICATION = Scenario(
    "a Gold cycle: a clarification asked and answered, a site visit scheduled and completed",
    "goldbay",
    [
        register("goldbay"),
        apply("2026-fall"),
        evidence(GOLD_SCORE),
        *assigned_and_declared(GOLD_SCORE),
        review(approve=GOLD_SCORE[1:], clarify=GOLD_SCORE[:1]),
        answer(GOLD_SCORE[:1], after=2 * DAY),
        review(approve=GOLD_SCORE[:1]),
        close(),
        schedule_visit(in_days=2),
        complete_visit(after=3 * DAY),
        decide(Level.GOLD),
        appeal_window_closes(),
    ],
    Phase.CERTIFIED,
    Level.GOLD,
)

INELIGIBLE_CITY = Scenario(
    "an ineligible city is refused and nothing is recorded",
    "smallville",
    [
        Step(
            cmd.RegisterCity(city_id="smallville", name="Smallville", country="FR", population=12_000),
            OPERATOR,
            refused="Smallville is not eligible: population 12,000 is below the minimum of 30,000",
        )
    ],
    None,
)

CONFLICT_OF_INTEREST = Scenario(
    "a reviewer from the city under review is refused; one from elsewhere decides",
    "oakdale",
    [
        register("oakdale"),
        apply("2026-fall"),
        evidence(CRITERIA[:2]),
        review(
            approve=CRITERIA[:2],
            reviewer=Actor(role="reviewer", id="rev-bo"),
            home_city="oakdale",
            refused="conflict of interest: reviewer rev-bo is from oakdale",
        ),
        # Under the latest rules only the assigned reviewer decides, once they declared no conflict.
        review(approve=CRITERIA[:2], refused="wait for a reviewer to be assigned"),
        assign(CRITERIA[:2]),
        review(approve=CRITERIA[:2], refused="has not declared that they have no conflict"),
        declare_no_conflict(),
        review(approve=CRITERIA[:2], reviewer=LEAD, refused=f"{CRITERIA[0]} is assigned to rev-ana"),
        review(approve=CRITERIA[:2]),
    ],
    Phase.EVIDENCE,
)

APPEAL_UPHELD = Scenario(
    "Silver decided on a Gold recommendation, appealed in the window, upheld: Gold at once",
    "appleton",
    [
        register("appleton"),
        *to_committee(apply("2026-fall"), GOLD_SCORE),
        decide(Level.SILVER, rationale="the portal is not public"),
        appeal(after=5 * DAY),
        uphold_appeal(Level.GOLD),
    ],
    Phase.CERTIFIED,
    Level.GOLD,
)

CLARIFICATION_EXPIRES = Scenario(
    "a clarification left unanswered expires with the submission closed: the review completes",
    "quietford",
    [
        register("quietford"),
        apply("2026-fall"),
        evidence(CRITERIA[:24]),
        *assigned_and_declared(CRITERIA[:24]),
        review(approve=SILVER_SCORE, clarify=CRITERIA[23:24]),
        close(review_completes=False),
        # The question's 25 days started with the review; the city is told five days before.
        due_dates_near(20 * DAY, ev.ClarificationDueSoon),
        clarifications_expire(after=6 * DAY),
    ],
    Phase.SITE_VISIT,
)

RECERTIFYING_CITY_LAPSES = Scenario(
    "Silver, a re-certification begun two years on, the certification lapses while it runs",
    "longreach",
    [
        register("longreach"),
        *certify(apply("2026-fall"), SILVER_SCORE, Level.SILVER),
        reapply("2029-spring", after=700 * DAY),
        # The submission is due 90 days on: its staff are told 14 days before, the committee after.
        due_dates_near(76 * DAY, ev.SubmissionDueSoon),
        deadlines_missed(14 * DAY, ev.SubmissionOverdue),
        certification_lapses(after=310 * DAY),  # 1,100 days after the award: past its 3 years
    ],
    Phase.EVIDENCE,
)

DECISION_ACCEPTED = Scenario(
    "Gold decided and accepted by the city the next day: awarded at once, no appeal window waited out",
    "ridgeway",
    [
        register("ridgeway"),
        *to_committee(apply("2026-fall"), GOLD_SCORE),
        decide(Level.GOLD),
        accept_decision(),
    ],
    Phase.CERTIFIED,
    Level.GOLD,
)

FIRST_AREA = get_standard(STANDARD).practice_areas[0].id
IN_FIRST_AREA = [c.id for c in get_standard(STANDARD).criteria if c.practice_area == FIRST_AREA]


def evidence_in_assigned_area(criteria: list[str], in_area: list[str]) -> Step:
    """Evidence where a practice area already has its reviewer: its criteria go to them at once."""
    step = evidence(criteria)
    assigned = [ev.ReviewerAssigned] * len([c for c in criteria if c in in_area])
    return Step(step.command, step.actor, [*step.then, *assigned])


PLATINUM_SIGNED_OFF = Scenario(
    "Platinum by practice area: a reviewer takes an area, another declares a conflict, the lead "
    "signs off before the committee decides",
    "summitvale",
    [
        register("summitvale"),
        apply("2026-fall"),
        assign_area(FIRST_AREA),
        evidence_in_assigned_area(CRITERIA, IN_FIRST_AREA),
        assign([c for c in CRITERIA if c not in IN_FIRST_AREA]),
        declare_conflict(Actor(role="reviewer", id="rev-bo")),
        declare_no_conflict(),
        review(approve=CRITERIA),
        close(),
        waive_visit(),
        Step(
            cmd.DecideLevel(level=Level.PLATINUM, rationale="as recommended"),
            COMMITTEE,
            refused="a platinum recommendation needs the lead reviewer's sign-off",
        ),
        assign_lead(),
        sign_off(refused="rev-lead has not declared that they have no conflict"),
        declare_no_conflict(LEAD),
        sign_off(),
        decide(Level.PLATINUM),
        accept_decision(),
    ],
    Phase.CERTIFIED,
    Level.PLATINUM,
)


def _level_step() -> tuple[list[str], str]:
    """Criteria approved at a certified level, and one more whose approval lifts the level: from
    every criterion approved, drop criteria until the level first falls (by what the standard
    scores, not by ids or counts)."""
    standard = get_standard(STANDARD)
    kept = list(CRITERIA)
    for cid in reversed(CRITERIA):
        fewer = [k for k in kept if k != cid]
        below = standard.score(fewer).level
        if below is not None and below != standard.score(kept).level:
            return fewer, cid
        kept = fewer
    raise AssertionError("no criterion lifts a certified level")


_HELD, _CONTESTED = _level_step()
_HELD_LEVEL = get_standard(STANDARD).score(_HELD).level
_LIFTED_LEVEL = get_standard(STANDARD).score([*_HELD, _CONTESTED]).level
assert _HELD_LEVEL is not None and _LIFTED_LEVEL is not None
FRESH_REVIEWER = Actor(role="reviewer", id="rev-bo")

APPEAL_AGAINST_A_REJECTED_CRITERION = Scenario(
    "a criterion rejected, appealed with new evidence, upheld: a fresh reviewer approves it, the "
    "committee decides the new recommendation, awarded at once",
    "fairhaven",
    [
        register("fairhaven"),
        apply("2026-fall"),
        evidence([*_HELD, _CONTESTED]),
        *assigned_and_declared([*_HELD, _CONTESTED]),
        review(approve=_HELD, reject=[_CONTESTED]),
        close(),
        waive_visit(),
        *signed_off_if_needed(_HELD),
        decide(_HELD_LEVEL),
        Step(
            cmd.FileAppeal(
                grounds="the reviewer read the 2019 inventory; the 2025 one is attached",
                criteria=[_CONTESTED],
                evidence=[complete_evidence(_CONTESTED)],
            ),
            CITY_STAFF,
            [ev.AppealFiled],
            after=5 * DAY,
        ),
        Step(
            cmd.DecideAppeal(upheld=True, rationale="the 2025 inventory deserves a fresh review"),
            COMMITTEE,
            [ev.AppealDecided, ev.EvidenceSubmitted],
        ),
        # The reviewer who rejected it may not review it again; a fresh one does.
        Step(
            cmd.AssignReviewer(
                reviewer_id=REVIEWER.id, reviewer_home_city=HOME_CITY, criterion_ids=[_CONTESTED]
            ),
            OPERATOR,
            refused=f"{REVIEWER.id} decided {_CONTESTED} before the appeal",
        ),
        *assigned_and_declared([_CONTESTED], reviewer=FRESH_REVIEWER),
        Step(
            cmd.ReviewEvidence(
                reviewer_id=FRESH_REVIEWER.id,
                reviewer_home_city=HOME_CITY,
                items=[complete_approval(_CONTESTED)],
            ),
            FRESH_REVIEWER,
            [ev.EvidenceApproved, ev.LevelRecommended, ev.DeadlineSet],  # the committee's clock
        ),
        *signed_off_if_needed([*_HELD, _CONTESTED]),
        Step(
            cmd.DecideLevel(level=_LIFTED_LEVEL, rationale="as recommended after the appeal"),
            COMMITTEE,
            [ev.LevelDecided, ev.CertificationAwarded],
        ),
    ],
    Phase.CERTIFIED,
    _LIFTED_LEVEL,
)

SCENARIOS = [
    DECISION_ACCEPTED,
    REGISTRATION_TO_SILVER,
    GOLD_WITH_VISIT_AND_CLARIFICATION,
    INELIGIBLE_CITY,
    CONFLICT_OF_INTEREST,
    APPEAL_UPHELD,
    CLARIFICATION_EXPIRES,
    RECERTIFYING_CITY_LAPSES,
    PLATINUM_SIGNED_OFF,
    APPEAL_AGAINST_A_REJECTED_CRITERION,
]
