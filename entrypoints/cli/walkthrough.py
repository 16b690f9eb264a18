"""A fictional city walked through two certification cycles by the pure decider.

`citycert demo` prints it as a timeline, so a newcomer sees the whole path without any server;
the tests use it as the story of one city.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from domain import CityState, ProgrammePolicy, decide, fold
from domain import commands as c
from domain.events import Document, DomainEvent
from domain.standard import get_standard
from domain.worksheet import enough_items

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REVIEWER = {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton"}
# The programme's rounds Lakeside applies to (their application windows).
SPRING_2026 = c.ApplicationRound(
    round_id="2026-spring", opens_on=date(2026, 1, 1), closes_on=date(2026, 3, 31)
)
SPRING_2029 = c.ApplicationRound(
    round_id="2029-spring", opens_on=date(2028, 12, 1), closes_on=date(2029, 3, 31)
)


def _apply(round_: c.ApplicationRound) -> c.ApplyForCertification:
    return c.ApplyForCertification(cohort=round_.round_id, standard_version="wwc-2022", round=round_)


@dataclass(frozen=True)
class Step:
    at: datetime
    actor: str
    command: c.Command
    events: list[DomainEvent]
    state: CityState


def _evidence(ids: list[str]) -> c.SubmitEvidence:
    """Each criterion's worksheet complete: a document in every required slot, k items claimed."""
    standard = get_standard("wwc-2022")
    return c.SubmitEvidence(
        items=[
            c.EvidenceItem(
                criterion_id=cid,
                documents=[
                    Document(
                        title=title[:200],
                        url=f"https://example.org/lakeside/{cid}/{n}".replace(" ", "-"),
                        slot=n,
                    )
                    for n, title in enumerate(standard.criterion(cid).required_documents, start=1)
                ]
                or [Document(title=f"{cid} evidence pack", url=f"https://example.org/lakeside/{cid}")],
                narrative=f"How Lakeside meets {cid}.",
                claims=enough_items(standard.criterion(cid)),
            )
            for cid in ids
        ]
    )


def _approve(ids: list[str]) -> c.ReviewEvidence:
    """Approvals that find each criterion's k checklist items met."""
    standard = get_standard("wwc-2022")
    return c.ReviewEvidence(
        **REVIEWER,
        items=[
            c.ReviewItem(
                criterion_id=cid,
                decision=c.Verdict.APPROVE,
                checklist_met=enough_items(standard.criterion(cid)),
            )
            for cid in ids
        ],
    )


def _assign(ids: list[str]) -> c.AssignReviewer:
    return c.AssignReviewer(**REVIEWER, criterion_ids=ids)


NO_CONFLICT = c.DeclareNoConflict(reviewer_id=REVIEWER["reviewer_id"])


def script() -> Iterator[tuple[timedelta, str, c.Command]]:
    """(time since the previous step, who acts, the command) for Lakeside's first two cycles."""
    # In earning order: the equity and outcome requirements of every level come first.
    criteria = list(get_standard("wwc-2022").in_earning_order())
    first, second = criteria[:30], criteria[:38]
    day = timedelta(days=1)
    yield (
        day,
        "operator",
        c.RegisterCity(city_id="lakeside", name="Lakeside", country="US", population=182_000),
    )
    yield (
        7 * day,
        "city",
        c.TakeDataSnapshot(standard_version="wwc-2022", answers=dict.fromkeys(first, "met")),
    )
    yield 14 * day, "city", _apply(SPRING_2026)
    yield 20 * day, "city", _evidence(first)
    yield day, "operator", _assign(first)
    yield 0 * day, "reviewer", NO_CONFLICT
    yield day, "reviewer", _approve(first[:-1])
    yield (
        day,
        "reviewer",
        c.ReviewEvidence(
            **REVIEWER,
            items=[
                c.ReviewItem(criterion_id=first[-1], decision="request_clarification", note="Which year?")
            ],
        ),
    )
    yield day, "city", c.CloseEvidenceSubmission()
    yield (
        5 * day,
        "city",
        c.AnswerClarifications(
            items=[c.ClarificationAnswer(criterion_id=first[-1], answer="The 2025 report.")]
        ),
    )
    yield 2 * day, "reviewer", _approve(first[-1:])
    yield 3 * day, "committee", c.ScheduleSiteVisit(visit_date=date(2026, 4, 20))
    yield 50 * day, "committee", c.CompleteSiteVisit(findings="Practices confirmed on site.", overturned=[])
    yield 10 * day, "committee", c.DecideLevel(level="silver", rationale="Meets the Silver bar.")
    yield 31 * day, "scheduler", c.CloseAppealWindow()
    # Two and a half years on, the reminder arrives and Lakeside re-certifies higher.
    yield 920 * day, "scheduler", c.SendReminder(threshold_days=180)
    yield 10 * day, "city", _apply(SPRING_2029)
    yield 20 * day, "city", _evidence(second)
    yield day, "operator", _assign(second)
    yield 0 * day, "reviewer", NO_CONFLICT
    yield 4 * day, "reviewer", _approve(second)
    yield day, "city", c.CloseEvidenceSubmission()
    yield 3 * day, "committee", c.WaiveSiteVisit(reason="Visited in the previous cycle.")
    # A Platinum recommendation is signed off by the cycle's lead reviewer before the committee.
    yield day, "operator", c.AssignLeadReviewer(reviewer_id="rev-lead", reviewer_home_city="riverton")
    yield 0 * day, "reviewer", c.DeclareNoConflict(reviewer_id="rev-lead")
    yield day, "reviewer", c.SignOffReview(reviewer_id="rev-lead", note="The evidence holds up.")
    yield 8 * day, "committee", c.DecideLevel(level="gold", rationale="Moved up to Gold.")
    yield 31 * day, "scheduler", c.CloseAppealWindow()


def walk(policy: ProgrammePolicy | None = None) -> list[Step]:
    policy = policy or ProgrammePolicy()
    state = CityState.initial("lakeside")
    now = START
    steps: list[Step] = []
    for gap, actor, command in script():
        now += gap
        events = decide(state, command, now=now, policy=policy)
        state = fold(state, events)
        steps.append(Step(at=now, actor=actor, command=command, events=events, state=state))
    return steps
