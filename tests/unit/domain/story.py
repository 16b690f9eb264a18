"""Given-events / when-command / then-events helpers for the decider's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import CityState, decide, fold
from domain import commands as c
from domain import events as ev
from domain.levels import Level, Outcome
from domain.rules import LATEST, PROGRAMME_REVIEW
from domain.standard import get_standard
from domain.worksheet import enough_items
from tests.scenarios import open_round

CITY = "lakeside"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
STANDARD = get_standard("wwc-2022")
# In earning order: the level requirements (the equity practices, a resident outcome) come first
# and every prefix earns all its points, so CRITERIA[:n] reaches the level n points allow.
CRITERIA = list(STANDARD.in_earning_order())
REVIEWER = {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton"}
LEAD = {"reviewer_id": "rev-lead", "reviewer_home_city": "riverton"}
DOCS = [ev.Document(title="Data inventory 2026", url="https://example.org/inventory.pdf")]


def given(*events: ev.DomainEvent) -> CityState:
    return fold(CityState.initial(CITY), list(events))


def when(state: CityState, command: c.Command, now: datetime = T0) -> list[ev.DomainEvent]:
    return decide(state, command, now=now)


# Canned histories: each builds on the one before, so a test starts from the phase it needs.


def apply_to(
    round_id: str = "2026-spring", standard_version: str = STANDARD.version
) -> c.ApplyForCertification:
    """An application to an open round."""
    return c.ApplyForCertification(
        cohort=round_id, standard_version=standard_version, round=open_round(round_id)
    )


def registered() -> list[ev.DomainEvent]:
    return [ev.CityRegistered(city_id=CITY, name="Lakeside", country="US", population=182_000)]


def applied(
    cohort: str = "2026-spring", rules: int | None = LATEST, revision: int | None = None
) -> list[ev.DomainEvent]:
    """Registered and applied; the cycle under `rules` (domain/rules.py: the latest, as every new
    cycle; None: recorded before cycles recorded their rules, so the first), reviewed against the
    standard revision those rules use unless a test names another."""
    if rules is None:
        opened = ev.ApplicationSubmitted(cycle=1, cohort=cohort, standard_version=STANDARD.version)
    else:
        if revision is None:
            revision = STANDARD.revision if rules >= PROGRAMME_REVIEW else 1
        opened = ev.ApplicationSubmitted(
            cycle=1, cohort=cohort, standard_version=STANDARD.version, standard_revision=revision, rules=rules
        )
    return [*registered(), opened]


def applied_under_latest_rules(cohort: str = "2026-spring") -> list[ev.DomainEvent]:
    return applied(cohort, rules=LATEST)


def slotted(criterion_id: str) -> list[ev.Document]:
    """A complete worksheet's documents: one in each required-document slot, and DOCS (no slot).
    (A criterion of an older revision only, which has no worksheet rules to meet: DOCS.)"""
    if criterion_id not in STANDARD.criterion_ids:
        return list(DOCS)
    wanted = STANDARD.criterion(criterion_id).required_documents
    slug = criterion_id.replace(" ", "-").lower()
    return [
        *(
            ev.Document(title=title, url=f"https://example.org/{slug}/{n}.pdf", slot=n)
            for n, title in enumerate(wanted, start=1)
        ),
        *DOCS,
    ]


def enough(criterion_id: str) -> list[int]:
    """The first k checklist items of the criterion's "k of n": what a complete worksheet meets
    (none for a criterion of an older revision only)."""
    if criterion_id not in STANDARD.criterion_ids:
        return []
    return enough_items(STANDARD.criterion(criterion_id))


def assigned(ids: list[str], reviewer: str = "rev-ana", at: datetime = T0) -> list[ev.DomainEvent]:
    return [ev.ReviewerAssigned(criterion_id=cid, reviewer_id=reviewer, due_at=at + 10 * DAY) for cid in ids]


def declared_no_conflict(reviewer: str = "rev-ana") -> list[ev.DomainEvent]:
    return [ev.NoConflictDeclared(reviewer_id=reviewer)]


def submitted(ids: list[str], at: datetime = T0) -> list[ev.DomainEvent]:
    """Complete evidence for each: every required-document slot filled, k checklist items claimed."""
    return [
        ev.EvidenceSubmitted(
            criterion_id=cid,
            documents=slotted(cid),
            narrative="",
            review_due_at=at + 10 * DAY,
            submission=1,
            claims=enough(cid),
        )
        for cid in ids
    ]


def approved(ids: list[str]) -> list[ev.DomainEvent]:
    """Approvals that found each criterion's k checklist items met."""
    return [
        ev.EvidenceApproved(criterion_id=cid, reviewer_id="rev-ana", submission=1, checklist_met=enough(cid))
        for cid in ids
    ]


def reviewed_on(
    approved_ids: list[str], rejected_ids: list[str] | None = None, reviewer: str = "rev-ana"
) -> list[ev.DomainEvent]:
    """After an application: evidence for each criterion, given to the assigned reviewer, who
    declared no conflict first (as the latest rules ask), approved or rejected; submission closed,
    review completed."""
    refused = rejected_ids or []
    ids = [*approved_ids, *refused]
    score = STANDARD.score(approved_ids)
    return [
        *submitted(ids),
        *assigned(ids, reviewer),
        *declared_no_conflict(reviewer),
        *[
            ev.EvidenceApproved(
                criterion_id=cid, reviewer_id=reviewer, submission=1, checklist_met=enough(cid)
            )
            for cid in approved_ids
        ],
        *[ev.EvidenceRejected(criterion_id=cid, reviewer_id=reviewer, submission=1) for cid in refused],
        ev.EvidenceSubmissionClosed(submitted=sorted(ids)),
        ev.EvidenceReviewCompleted(approved=sorted(approved_ids), points=score.points, score=score.score),
    ]


def recommended_on(
    approved_ids: list[str],
    rejected_ids: list[str] | None = None,
    reviewer: str = "rev-ana",
    honor_roll: bool = False,
) -> list[ev.DomainEvent]:
    """reviewed_on, then the visit waived and the level those approvals reach recommended."""
    score = STANDARD.score(approved_ids)
    return [
        *reviewed_on(approved_ids, rejected_ids, reviewer),
        ev.SiteVisitWaived(reason="virtual review"),
        ev.LevelRecommended(
            points=score.points,
            possible=score.possible,
            score=score.score,
            level=score.level,
            honor_roll=honor_roll,
        ),
    ]


def reviewed(n_approved: int) -> list[ev.DomainEvent]:
    """Applied, n criteria submitted and approved, submission closed, review completed."""
    return [*applied(), *reviewed_on(CRITERIA[:n_approved])]


def recommended(n_approved: int) -> list[ev.DomainEvent]:
    score = STANDARD.score(CRITERIA[:n_approved])
    honor_roll = score.level is None and score.score >= 0.46
    return [*applied(), *recommended_on(CRITERIA[:n_approved], honor_roll=honor_roll)]


def decided(level: Level | None, n_approved: int = 30, at: datetime = T0) -> list[ev.DomainEvent]:
    deadline = at + 30 * DAY
    decision: ev.DomainEvent = (
        ev.LevelDecided(level=level, rationale="r", appeal_deadline=deadline)
        if level
        else ev.CityNotCertified(honor_roll=False, rationale="r", appeal_deadline=deadline)
    )
    return [*recommended(n_approved), decision]


def certified(level: Level = Level.SILVER, at: datetime = T0) -> list[ev.DomainEvent]:
    n = {Level.SILVER: 23, Level.GOLD: 30, Level.PLATINUM: 43}[level]
    return [
        *decided(level, n, at),
        ev.CertificationAwarded(
            cycle=1,
            level=level,
            cohort="2026-spring",
            standard_version="wwc-2022",
            valid_from=at,
            valid_until=at + 3 * 365 * DAY,
            previous_level=None,
            outcome=Outcome.NEW,
        ),
    ]
