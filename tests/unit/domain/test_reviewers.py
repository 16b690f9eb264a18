"""Reviewers as the programme runs them, one story per rule: practice areas, the lead reviewer,
conflicts declared or not, and the lead's sign-off before the committee decides.

Criteria are chosen by property (their practice area), never by id, so the stories hold whatever
the standard's ids become."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain import CommandRejected, InvalidCommand, Level, ProgrammePolicy, decide
from domain import commands as c
from domain import events as ev
from domain.standard import get_standard
from tests.unit.domain.story import (
    CITY,
    DAY,
    DOCS,
    LEAD,
    REVIEWER,
    STANDARD,
    T0,
    applied,
    applied_under_latest_rules,
    assigned,
    declared_no_conflict,
    enough,
    given,
    recommended_on,
    submitted,
    when,
)

# Two practice areas of the standard, with their criteria (the first one's has two at least).
AREA, OTHER_AREA = (a.id for a in STANDARD.practice_areas[:2])
IN_AREA = [crit.id for crit in STANDARD.criteria if crit.practice_area == AREA]
IN_OTHER = [crit.id for crit in STANDARD.criteria if crit.practice_area == OTHER_AREA]
FIRST, SECOND = IN_AREA[:2]
ANA, LEAD_ID = REVIEWER["reviewer_id"], LEAD["reviewer_id"]
# A cycle under the first rules is reviewed against the standard's first revision.
FIRST_REVISION = get_standard(STANDARD.version, 1)
OLD_AREA = FIRST_REVISION.practice_areas[0].id
OLD_FIRST = next(crit.id for crit in FIRST_REVISION.criteria if crit.practice_area == OLD_AREA)


def approve(*ids: str, reviewer: dict[str, str] = REVIEWER) -> c.ReviewEvidence:
    """Approvals on complete worksheets (story.submitted fills them): k checklist items met."""
    return c.ReviewEvidence(
        **reviewer,
        items=[
            c.ReviewItem(criterion_id=cid, decision=c.Verdict.APPROVE, checklist_met=enough(cid))
            for cid in ids
        ],
    )


def evidence(*ids: str) -> c.SubmitEvidence:
    return c.SubmitEvidence(items=[c.EvidenceItem(criterion_id=cid, documents=DOCS) for cid in ids])


def in_review(*ids: str) -> list[ev.DomainEvent]:
    """Applied under the latest rules, evidence for `ids` submitted."""
    return [*applied_under_latest_rules(), *submitted(list(ids))]


def platinum_recommended(*extra: ev.DomainEvent) -> list[ev.DomainEvent]:
    """Under the latest rules, every criterion approved, the visit waived: Platinum recommended."""
    ids = [crit.id for crit in STANDARD.criteria]
    assert STANDARD.score(ids).level is Level.PLATINUM
    return [*applied_under_latest_rules(), *recommended_on(ids), *extra]


class TestAssignPracticeArea:
    def test_the_areas_waiting_criteria_go_to_the_reviewer(self) -> None:
        state = given(*in_review(FIRST, SECOND, IN_OTHER[0]))

        events = when(state, c.AssignPracticeArea(**REVIEWER, practice_area=AREA))

        assert events == [
            ev.PracticeAreaAssigned(practice_area=AREA, reviewer_id=ANA),
            ev.ReviewerAssigned(criterion_id=FIRST, reviewer_id=ANA, due_at=T0 + 10 * DAY),
            ev.ReviewerAssigned(criterion_id=SECOND, reviewer_id=ANA, due_at=T0 + 10 * DAY),
        ]

    def test_later_submissions_in_the_area_go_to_its_reviewer(self) -> None:
        state = given(*in_review(FIRST), ev.PracticeAreaAssigned(practice_area=AREA, reviewer_id=ANA))

        events = when(state, evidence(SECOND, IN_OTHER[0]))

        assert [type(e) for e in events] == [ev.EvidenceSubmitted, ev.EvidenceSubmitted, ev.ReviewerAssigned]
        assert events[-1] == ev.ReviewerAssigned(criterion_id=SECOND, reviewer_id=ANA, due_at=T0 + 10 * DAY)

    def test_under_the_first_rules_a_submission_is_assigned_to_nobody(self) -> None:
        state = given(*applied(rules=None), ev.PracticeAreaAssigned(practice_area=OLD_AREA, reviewer_id=ANA))

        events = when(state, evidence(OLD_FIRST))

        assert [type(e) for e in events] == [ev.EvidenceSubmitted]

    def test_an_area_the_standard_does_not_have_is_invalid(self) -> None:
        with pytest.raises(InvalidCommand, match="'Nowhere' is not a practice area of wwc-2022"):
            when(given(*in_review(FIRST)), c.AssignPracticeArea(**REVIEWER, practice_area="Nowhere"))

    def test_a_reviewer_from_the_city_is_refused(self) -> None:
        with pytest.raises(CommandRejected, match=f"conflict of interest: reviewer rev-bo is from {CITY}"):
            when(
                given(*in_review(FIRST)),
                c.AssignPracticeArea(reviewer_id="rev-bo", reviewer_home_city=CITY, practice_area=AREA),
            )

    def test_a_reviewer_whose_record_declares_a_conflict_with_the_city_is_refused(self) -> None:
        command = c.AssignPracticeArea(**REVIEWER, reviewer_conflicts=[CITY], practice_area=AREA)
        with pytest.raises(CommandRejected, match=f"rev-ana declared a conflict with {CITY} on their record"):
            when(given(*in_review(FIRST)), command)

    def test_a_reviewer_who_declared_a_conflict_in_the_cycle_is_refused(self) -> None:
        state = given(*in_review(FIRST), ev.ConflictDeclared(reviewer_id=ANA, reason="worked there in 2025"))
        with pytest.raises(
            CommandRejected, match=r"declared a conflict with lakeside \(worked there in 2025\)"
        ):
            when(state, c.AssignPracticeArea(**REVIEWER, practice_area=AREA))

    def test_the_same_reviewer_twice_is_refused(self) -> None:
        state = given(*in_review(FIRST), ev.PracticeAreaAssigned(practice_area=AREA, reviewer_id=ANA))
        with pytest.raises(CommandRejected, match=f"reviewer rev-ana already takes {AREA}"):
            when(state, c.AssignPracticeArea(**REVIEWER, practice_area=AREA))


class TestAssignReviewerConflicts:
    def test_a_reviewer_whose_record_declares_a_conflict_is_refused(self) -> None:
        command = c.AssignReviewer(**REVIEWER, reviewer_conflicts=[CITY], criterion_ids=[FIRST])
        with pytest.raises(CommandRejected, match="on their record and may not review it"):
            when(given(*in_review(FIRST)), command)

    def test_a_reviewer_who_declared_a_conflict_in_the_cycle_is_refused(self) -> None:
        state = given(*in_review(FIRST), ev.ConflictDeclared(reviewer_id=ANA, reason="my former employer"))
        with pytest.raises(CommandRejected, match=r"\(my former employer\) and may not review it"):
            when(state, c.AssignReviewer(**REVIEWER, criterion_ids=[FIRST]))


class TestOnlyTheAssignedReviewerDecides:
    def test_the_assigned_reviewer_who_declared_no_conflict_decides(self) -> None:
        state = given(*in_review(FIRST), *assigned([FIRST]), *declared_no_conflict())

        assert when(state, approve(FIRST)) == [
            ev.EvidenceApproved(
                criterion_id=FIRST, reviewer_id=ANA, submission=1, checklist_met=enough(FIRST)
            )
        ]

    def test_an_item_nobody_is_assigned_to_waits_for_an_assignment(self) -> None:
        state = given(*in_review(FIRST), *declared_no_conflict())
        with pytest.raises(CommandRejected, match=f"{FIRST} wait for a reviewer to be assigned"):
            when(state, approve(FIRST))

    def test_another_reviewer_is_refused_naming_who_is_assigned(self) -> None:
        state = given(*in_review(FIRST), *assigned([FIRST], reviewer="rev-bo"), *declared_no_conflict())
        with pytest.raises(CommandRejected, match=f"not rev-ana: {FIRST} is assigned to rev-bo"):
            when(state, approve(FIRST))

    def test_the_lead_reviewer_decides_any_item(self) -> None:
        state = given(
            *in_review(FIRST),
            *assigned([FIRST]),
            ev.LeadReviewerAssigned(reviewer_id=LEAD_ID),
            *declared_no_conflict(LEAD_ID),
        )

        events = when(state, approve(FIRST, reviewer=LEAD))

        assert events == [
            ev.EvidenceApproved(
                criterion_id=FIRST, reviewer_id=LEAD_ID, submission=1, checklist_met=enough(FIRST)
            )
        ]

    def test_the_assigned_reviewer_is_refused_until_they_declare_no_conflict(self) -> None:
        state = given(*in_review(FIRST), *assigned([FIRST]))
        with pytest.raises(CommandRejected, match="rev-ana has not declared that they have no conflict"):
            when(state, approve(FIRST))

    def test_under_the_first_rules_any_reviewer_still_decides(self) -> None:
        state = given(*applied(rules=None), *submitted([OLD_FIRST]))
        review = c.ReviewItem(criterion_id=OLD_FIRST, decision=c.Verdict.APPROVE)

        [approval] = when(state, c.ReviewEvidence(**REVIEWER, items=[review]))
        assert (approval.criterion_id, approval.reviewer_id) == (OLD_FIRST, ANA)


class TestDeclarations:
    def test_a_reviewer_declares_no_conflict(self) -> None:
        events = when(given(*in_review(FIRST)), c.DeclareNoConflict(reviewer_id=ANA))

        assert events == [ev.NoConflictDeclared(reviewer_id=ANA)]

    def test_declaring_no_conflict_twice_is_refused(self) -> None:
        state = given(*in_review(FIRST), *declared_no_conflict())
        with pytest.raises(CommandRejected, match="rev-ana has already declared no conflict"):
            when(state, c.DeclareNoConflict(reviewer_id=ANA))

    def test_no_conflict_after_a_conflict_is_refused(self) -> None:
        state = given(*in_review(FIRST), ev.ConflictDeclared(reviewer_id=ANA, reason="my sister is the CDO"))
        with pytest.raises(CommandRejected, match="rev-ana declared a conflict with lakeside: my sister"):
            when(state, c.DeclareNoConflict(reviewer_id=ANA))

    def test_a_declared_conflict_sends_the_reviewers_items_back_to_awaiting_assignment(self) -> None:
        history = [
            *in_review(FIRST, SECOND),
            ev.PracticeAreaAssigned(practice_area=AREA, reviewer_id=ANA),
            *assigned([FIRST, SECOND]),
            *declared_no_conflict(),
            ev.LeadReviewerAssigned(reviewer_id=ANA),
        ]

        events = when(
            given(*history), c.DeclareConflict(reviewer_id=ANA, reason="consulted for the city in 2025")
        )

        assert events == [ev.ConflictDeclared(reviewer_id=ANA, reason="consulted for the city in 2025")]
        cycle = given(*history, *events).cycle
        assert cycle is not None
        assert [cycle.items[cid].reviewer_id for cid in (FIRST, SECOND)] == [None, None]
        assert (cycle.area_reviewers, cycle.lead_reviewer_id, cycle.no_conflict_declared) == ({}, None, ())
        assert cycle.conflicts_declared == {ANA: "consulted for the city in 2025"}

    def test_a_reviewer_who_declared_a_conflict_can_no_longer_decide(self) -> None:
        state = given(
            *in_review(FIRST),
            *assigned([FIRST]),
            *declared_no_conflict(),
            ev.ConflictDeclared(reviewer_id=ANA, reason="r"),
        )
        with pytest.raises(CommandRejected, match=f"{FIRST} wait for a reviewer to be assigned"):
            when(state, approve(FIRST))

    def test_the_lead_who_signed_off_cannot_declare_a_conflict_afterwards(self) -> None:
        state = given(
            *platinum_recommended(
                ev.LeadReviewerAssigned(reviewer_id=LEAD_ID),
                *declared_no_conflict(LEAD_ID),
                ev.ReviewSignedOff(reviewer_id=LEAD_ID, level=Level.PLATINUM),
            )
        )
        with pytest.raises(CommandRejected, match="rev-lead signed off the review; the committee must hear"):
            when(state, c.DeclareConflict(reviewer_id=LEAD_ID, reason="remembered a contract"))

    def test_declaring_a_conflict_twice_is_refused(self) -> None:
        state = given(*in_review(FIRST), ev.ConflictDeclared(reviewer_id=ANA, reason="r"))
        with pytest.raises(CommandRejected, match="rev-ana has already declared a conflict"):
            when(state, c.DeclareConflict(reviewer_id=ANA, reason="again"))

    def test_a_conflict_needs_a_reason(self) -> None:
        with pytest.raises(ValidationError):
            c.DeclareConflict(reviewer_id=ANA, reason="")

    def test_a_declaration_needs_an_open_cycle(self) -> None:
        with pytest.raises(CommandRejected, match="DeclareNoConflict needs the city to be evidence"):
            when(given(*applied()[:1]), c.DeclareNoConflict(reviewer_id=ANA))


class TestAssignLeadReviewer:
    def test_the_operator_names_the_cycles_lead_reviewer(self) -> None:
        events = when(given(*in_review(FIRST)), c.AssignLeadReviewer(**LEAD))

        assert events == [ev.LeadReviewerAssigned(reviewer_id=LEAD_ID)]
        assert given(*in_review(FIRST), *events).cycle.lead_reviewer_id == LEAD_ID  # type: ignore[union-attr]

    def test_a_lead_from_the_city_is_refused(self) -> None:
        with pytest.raises(CommandRejected, match="conflict of interest: reviewer rev-bo is from lakeside"):
            when(
                given(*in_review(FIRST)), c.AssignLeadReviewer(reviewer_id="rev-bo", reviewer_home_city=CITY)
            )

    def test_a_lead_whose_record_declares_a_conflict_is_refused(self) -> None:
        command = c.AssignLeadReviewer(**LEAD, reviewer_conflicts=[CITY])
        with pytest.raises(CommandRejected, match="on their record"):
            when(given(*in_review(FIRST)), command)

    def test_a_lead_who_declared_a_conflict_in_the_cycle_is_refused(self) -> None:
        state = given(
            *in_review(FIRST), ev.ConflictDeclared(reviewer_id=LEAD_ID, reason="my former employer")
        )
        with pytest.raises(
            CommandRejected, match=r"rev-lead declared a conflict with lakeside \(my former employer\)"
        ):
            when(state, c.AssignLeadReviewer(**LEAD))

    def test_the_same_lead_again_is_refused(self) -> None:
        state = given(*in_review(FIRST), ev.LeadReviewerAssigned(reviewer_id=LEAD_ID))
        with pytest.raises(CommandRejected, match="rev-lead is already the cycle's lead reviewer"):
            when(state, c.AssignLeadReviewer(**LEAD))

    def test_a_new_lead_after_the_sign_off_is_refused(self) -> None:
        state = given(
            *platinum_recommended(
                ev.LeadReviewerAssigned(reviewer_id=LEAD_ID),
                ev.ReviewSignedOff(reviewer_id=LEAD_ID, level=Level.PLATINUM),
            )
        )
        with pytest.raises(CommandRejected, match="rev-lead has already signed off the review"):
            when(state, c.AssignLeadReviewer(reviewer_id="rev-cy", reviewer_home_city="riverton"))


class TestLeadSignOff:
    def test_the_lead_signs_off_the_recommendation(self) -> None:
        state = given(
            *platinum_recommended(
                ev.LeadReviewerAssigned(reviewer_id=LEAD_ID), *declared_no_conflict(LEAD_ID)
            )
        )

        events = when(state, c.SignOffReview(reviewer_id=LEAD_ID, note="holds up"))

        assert events == [ev.ReviewSignedOff(reviewer_id=LEAD_ID, level=Level.PLATINUM, note="holds up")]

    def test_a_platinum_decision_waits_for_the_sign_off(self) -> None:
        state = given(*platinum_recommended(ev.LeadReviewerAssigned(reviewer_id=LEAD_ID)))
        with pytest.raises(CommandRejected, match="the lead reviewer rev-lead signs it off first"):
            when(state, c.DecideLevel(level=Level.PLATINUM, rationale="r"))

    def test_without_a_lead_the_refusal_says_to_assign_one(self) -> None:
        with pytest.raises(
            CommandRejected, match=r"a platinum recommendation needs .* \(AssignLeadReviewer\)"
        ):
            when(given(*platinum_recommended()), c.DecideLevel(level=Level.GOLD, rationale="r"))

    def test_after_the_sign_off_the_committee_decides(self) -> None:
        state = given(
            *platinum_recommended(
                ev.LeadReviewerAssigned(reviewer_id=LEAD_ID),
                ev.ReviewSignedOff(reviewer_id=LEAD_ID, level=Level.PLATINUM),
            )
        )

        events = when(state, c.DecideLevel(level=Level.PLATINUM, rationale="r"))

        assert [type(e) for e in events] == [ev.LevelDecided]

    def test_a_level_the_programme_does_not_sign_off_is_decided_at_once(self) -> None:
        policy = ProgrammePolicy(lead_signoff_levels=(Level.GOLD,))
        events = decide(
            given(*platinum_recommended()),
            c.DecideLevel(level=Level.PLATINUM, rationale="r"),
            now=T0,
            policy=policy,
        )

        assert [type(e) for e in events] == [ev.LevelDecided]

    def test_only_the_lead_signs_off(self) -> None:
        state = given(*platinum_recommended(ev.LeadReviewerAssigned(reviewer_id=LEAD_ID)))
        with pytest.raises(CommandRejected, match=r"only the cycle's lead reviewer \(rev-lead\) signs off"):
            when(state, c.SignOffReview(reviewer_id=ANA))

    def test_a_sign_off_needs_a_lead(self) -> None:
        with pytest.raises(CommandRejected, match="the cycle has no lead reviewer"):
            when(given(*platinum_recommended()), c.SignOffReview(reviewer_id=LEAD_ID))

    def test_the_lead_declares_no_conflict_before_signing_off(self) -> None:
        state = given(*platinum_recommended(ev.LeadReviewerAssigned(reviewer_id=LEAD_ID)))
        with pytest.raises(CommandRejected, match="rev-lead has not declared that they have no conflict"):
            when(state, c.SignOffReview(reviewer_id=LEAD_ID))

    def test_signing_off_twice_is_refused(self) -> None:
        state = given(
            *platinum_recommended(
                ev.LeadReviewerAssigned(reviewer_id=LEAD_ID),
                *declared_no_conflict(LEAD_ID),
                ev.ReviewSignedOff(reviewer_id=LEAD_ID, level=Level.PLATINUM),
            )
        )
        with pytest.raises(CommandRejected, match="already signed off by rev-lead"):
            when(state, c.SignOffReview(reviewer_id=LEAD_ID))

    def test_under_the_first_rules_the_committee_decides_without_a_sign_off(self) -> None:
        ids = [crit.id for crit in FIRST_REVISION.criteria]
        score = FIRST_REVISION.score(ids)
        state = given(
            *applied(rules=None),
            *submitted(ids),
            *[ev.EvidenceApproved(criterion_id=cid, reviewer_id=ANA, submission=1) for cid in ids],
            ev.EvidenceSubmissionClosed(submitted=sorted(ids)),
            ev.EvidenceReviewCompleted(approved=sorted(ids), points=score.points, score=score.score),
            ev.SiteVisitWaived(reason="virtual review"),
            ev.LevelRecommended(
                points=score.points,
                possible=score.possible,
                score=score.score,
                level=score.level,
                honor_roll=False,
            ),
        )

        assert [type(e) for e in when(state, c.DecideLevel(level=score.level, rationale="r"))] == [
            ev.LevelDecided
        ]
