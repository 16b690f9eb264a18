"""The rest of the path under the programme's review rules: site visits as they happen, a clock on
every phase, escalations that repeat, deadlines extended with a reason, business-day windows.

Given these events, when this command (or this timer), then these events, or this refusal.
Cycles here open under the latest rules (the canned histories of story.py open under the first,
as recorded histories did); criterion ids come from the standard, never written out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pytest
from pydantic import ValidationError

from domain import CommandRejected, InvalidCommand, Phase, ProgrammePolicy, decide, fold, rules
from domain import commands as c
from domain import events as ev
from domain.calendar import add_business_days
from domain.deadlines import clarification_due, deadlines, due_timer_commands, next_deadline
from domain.notices import Audience, NoticeKind, notice_for
from domain.state import CityState
from tests.unit.domain.story import (
    CRITERIA,
    DAY,
    REVIEWER,
    STANDARD,
    T0,
    applied,
    apply_to,
    approved,
    assigned,
    declared_no_conflict,
    enough,
    given,
    registered,
    reviewed,
    submitted,
    when,
)

POLICY = ProgrammePolicy()
FIRST_ID, SECOND_ID, THIRD_ID = CRITERIA[0], CRITERIA[1], CRITERIA[2]


def under(rules_: int, history: list[ev.DomainEvent]) -> list[ev.DomainEvent]:
    """The same history with its cycle opened under `rules_` (against the same revision, so the
    same criteria tell what the rules alone change)."""
    return [
        e.model_copy(update={"rules": rules_})
        if isinstance(e, ev.ApplicationSubmitted | ev.RecertificationStarted)
        else e
        for e in history
    ]


def latest(history: list[ev.DomainEvent]) -> list[ev.DomainEvent]:
    return under(rules.PROGRAMME_REVIEW, history)


def first(history: list[ev.DomainEvent]) -> list[ev.DomainEvent]:
    return under(rules.FIRST, history)


def rejected(ids: list[str]) -> list[ev.DomainEvent]:
    return [ev.EvidenceRejected(criterion_id=cid, reviewer_id="rev-ana", submission=1) for cid in ids]


def visit_pending(approve: list[str], reject: Sequence[str] = ()) -> list[ev.DomainEvent]:
    """Applied under the latest rules, reviewed (these approved, those rejected): a visit is due."""
    ids = [*approve, *reject]
    score = STANDARD.score(approve)
    return latest(
        [
            *applied(),
            *submitted(ids),
            *approved(approve),
            *rejected(list(reject)),
            ev.EvidenceSubmissionClosed(submitted=sorted(ids)),
            ev.EvidenceReviewCompleted(approved=sorted(approve), points=score.points, score=score.score),
        ]
    )


def after(history: list[ev.DomainEvent], command: c.Command, now: datetime = T0) -> list[ev.DomainEvent]:
    """The history with the command's events added."""
    return [*history, *when(given(*history), command, now)]


def types(events: list[ev.DomainEvent]) -> list[str]:
    return [e.event_type() for e in events]


# --- site visits as they happen -------------------------------------------------------------------


class TestSiteVisitRecordedDirectly:
    def test_a_visit_that_took_place_is_recorded_without_scheduling_and_a_level_recommended(self) -> None:
        # Given a review complete under the latest rules, no visit scheduled
        history = visit_pending(CRITERIA[:30])
        # When the visit held last week is recorded
        held = (T0 - 7 * DAY).date()
        events = when(given(*history), c.CompleteSiteVisit(findings="as described", visit_date=held))
        # Then it is recorded with its day, the level recommended, the committee's clock started
        assert types(events) == ["SiteVisitCompleted", "LevelRecommended", "DeadlineSet"]
        completed = events[0]
        assert isinstance(completed, ev.SiteVisitCompleted)
        assert (completed.visit_date, completed.overturned, completed.criterion_findings) == (held, [], [])
        assert events[2] == ev.DeadlineSet(deadline=ev.Deadline.COMMITTEE, due_at=T0 + POLICY.committee_sla)
        assert fold(given(*history), events).phase is Phase.COMMITTEE

    def test_a_visit_in_the_future_cannot_be_recorded_as_held(self) -> None:
        tomorrow = (T0 + DAY).date()
        with pytest.raises(CommandRejected, match=f"visit date {tomorrow} is in the future"):
            when(given(*visit_pending(CRITERIA[:30])), c.CompleteSiteVisit(findings="x", visit_date=tomorrow))

    def test_without_a_date_a_visit_must_have_been_scheduled(self) -> None:
        with pytest.raises(CommandRejected, match="give the date it took place, schedule one or waive it"):
            when(given(*visit_pending(CRITERIA[:30])), c.CompleteSiteVisit(findings="x"))

    def test_a_scheduled_visit_completes_on_its_day_as_before(self) -> None:
        history = [*visit_pending(CRITERIA[:30]), ev.SiteVisitScheduled(visit_date=T0.date())]
        [completed, *_] = when(given(*history), c.CompleteSiteVisit(findings="ok"))
        assert isinstance(completed, ev.SiteVisitCompleted) and completed.visit_date == T0.date()

    def test_findings_confirm_overturn_and_clear_per_criterion(self) -> None:
        # Given FIRST and SECOND approved, THIRD rejected
        history = visit_pending([FIRST_ID, SECOND_ID], [THIRD_ID])
        findings = [
            c.CriterionFinding(criterion_id=FIRST_ID, finding="confirm"),
            c.CriterionFinding(criterion_id=SECOND_ID, finding="overturn", note="no such board"),
            c.CriterionFinding(criterion_id=THIRD_ID, finding="clear", note="seen in use"),
        ]
        # When the visit finds the second unsupported and the third met on site
        events = when(
            given(*history),
            c.CompleteSiteVisit(findings="mixed", visit_date=T0.date(), criterion_findings=findings),
        )
        completed = events[0]
        assert isinstance(completed, ev.SiteVisitCompleted)
        # Then the overturned are listed as before, every finding is kept with its note
        assert completed.overturned == [SECOND_ID]
        assert [(f.criterion_id, f.finding, f.note) for f in completed.criterion_findings] == [
            (FIRST_ID, ev.SiteFinding.CONFIRM, ""),
            (SECOND_ID, ev.SiteFinding.OVERTURN, "no such board"),
            (THIRD_ID, ev.SiteFinding.CLEAR, "seen in use"),
        ]
        # And the recommendation counts the first and the third
        cycle = fold(given(*history), events).cycle
        assert cycle is not None
        assert sorted(cycle.approved) == sorted([FIRST_ID, THIRD_ID])
        recommended = events[1]
        assert isinstance(recommended, ev.LevelRecommended)
        assert recommended.points == STANDARD.score([FIRST_ID, THIRD_ID]).points

    def test_only_an_approval_can_be_overturned_and_only_a_rejection_cleared(self) -> None:
        state = given(*visit_pending([FIRST_ID], [SECOND_ID]))
        clear_approved = [c.CriterionFinding(criterion_id=FIRST_ID, finding="clear")]
        with pytest.raises(
            CommandRejected, match=f"can only clear rejected criteria; not rejected: {FIRST_ID}"
        ):
            when(
                state,
                c.CompleteSiteVisit(findings="x", visit_date=T0.date(), criterion_findings=clear_approved),
            )
        overturn_rejected = [c.CriterionFinding(criterion_id=SECOND_ID, finding="overturn")]
        with pytest.raises(CommandRejected, match=f"not approved: {SECOND_ID}"):
            when(
                state,
                c.CompleteSiteVisit(findings="x", visit_date=T0.date(), criterion_findings=overturn_rejected),
            )
        never_submitted = [c.CriterionFinding(criterion_id=THIRD_ID, finding="confirm")]
        with pytest.raises(CommandRejected, match=f"not decided: {THIRD_ID}"):
            when(
                state,
                c.CompleteSiteVisit(findings="x", visit_date=T0.date(), criterion_findings=never_submitted),
            )

    def test_a_criterion_found_twice_is_malformed(self) -> None:
        with pytest.raises(ValidationError, match="criterion named more than once"):
            c.CompleteSiteVisit(
                findings="x",
                overturned=[FIRST_ID],
                criterion_findings=[c.CriterionFinding(criterion_id=FIRST_ID, finding="confirm")],
            )

    def test_a_cycle_under_the_first_rules_still_needs_its_visit_scheduled(self) -> None:
        with pytest.raises(CommandRejected, match="this cycle runs under the first rules"):
            when(given(*first(reviewed(30))), c.CompleteSiteVisit(findings="x", visit_date=T0.date()))


class TestReschedule:
    def test_a_reschedule_records_both_days_and_why(self) -> None:
        history = [*visit_pending(CRITERIA[:30]), ev.SiteVisitScheduled(visit_date=date(2026, 3, 10))]
        events = when(
            given(*history), c.RescheduleSiteVisit(visit_date=date(2026, 3, 17), reason="the mayor is away")
        )
        assert events == [
            ev.SiteVisitRescheduled(
                previous_date=date(2026, 3, 10), visit_date=date(2026, 3, 17), reason="the mayor is away"
            )
        ]
        cycle = given(*history, *events).cycle
        assert cycle is not None and cycle.visit_date == date(2026, 3, 17)

    def test_only_a_scheduled_visit_is_rescheduled(self) -> None:
        with pytest.raises(CommandRejected, match="no site visit is scheduled; schedule one first"):
            when(
                given(*visit_pending(CRITERIA[:30])),
                c.RescheduleSiteVisit(visit_date=date(2026, 4, 1), reason="r"),
            )

    def test_a_reschedule_into_the_past_or_to_the_same_day_is_refused(self) -> None:
        state = given(*visit_pending(CRITERIA[:30]), ev.SiteVisitScheduled(visit_date=date(2026, 3, 10)))
        with pytest.raises(CommandRejected, match="is in the past"):
            when(state, c.RescheduleSiteVisit(visit_date=date(2026, 3, 1), reason="r"))
        with pytest.raises(CommandRejected, match="already scheduled for 2026-03-10"):
            when(state, c.RescheduleSiteVisit(visit_date=date(2026, 3, 10), reason="r"))

    def test_scheduling_again_is_refused_in_favour_of_a_reschedule_with_a_reason(self) -> None:
        state = given(*visit_pending(CRITERIA[:30]), ev.SiteVisitScheduled(visit_date=date(2026, 3, 10)))
        with pytest.raises(CommandRejected, match="reschedule it, saying why"):
            when(state, c.ScheduleSiteVisit(visit_date=date(2026, 3, 20)))

    def test_under_the_first_rules_scheduling_again_moves_the_visit_as_it_did(self) -> None:
        state = given(*first(reviewed(30)), ev.SiteVisitScheduled(visit_date=date(2026, 3, 10)))
        assert when(state, c.ScheduleSiteVisit(visit_date=date(2026, 3, 20))) == [
            ev.SiteVisitScheduled(visit_date=date(2026, 3, 20))
        ]


def test_the_city_hears_of_a_reschedule_with_its_day_and_reason() -> None:
    moved = ev.SiteVisitRescheduled(previous_date=date(2026, 3, 10), visit_date=date(2026, 3, 17), reason="r")
    notice = notice_for(moved)
    assert notice is not None
    assert (notice.kind, notice.audience, notice.text) == (
        NoticeKind.SITE_VISIT_RESCHEDULED,
        Audience.CITY,
        "r",
    )
    assert notice.due_at is not None and notice.due_at.date() == date(2026, 3, 17)


def test_a_waiver_records_who_approved_it() -> None:
    events = when(
        given(*visit_pending(CRITERIA[:30])), c.WaiveSiteVisit(reason="virtual", approved_by="chair")
    )
    assert events[0] == ev.SiteVisitWaived(reason="virtual", approved_by="chair")


# --- a clock on every phase -----------------------------------------------------------------------


class TestPhaseClocks:
    def test_the_submission_is_told_near_then_escalated_and_runs_no_more(self) -> None:
        # Given a city that applied under the latest rules (the submission's clock started)
        history = after(registered(), apply_to("2026-fall", "wwc-2022"))
        due = T0 + POLICY.submission_window
        assert history[-1] == ev.DeadlineSet(deadline=ev.Deadline.SUBMISSION, due_at=due)
        state = given(*history)
        # Then its staff are told submission_warning before the due date
        assert next_deadline(state, POLICY) == due - POLICY.submission_warning
        assert due_timer_commands(state, due - POLICY.submission_warning, POLICY) == [c.WarnOfDueDates()]
        warned = decide(state, c.WarnOfDueDates(), now=due - POLICY.submission_warning, policy=POLICY)
        assert warned == [ev.SubmissionDueSoon(due_at=due)]
        state = fold(state, warned)
        # And once the date passes the committee hears of it, once
        assert next_deadline(state, POLICY) == due
        assert due_timer_commands(state, due, POLICY) == [c.EscalateMissedDeadlines()]
        escalated = decide(state, c.EscalateMissedDeadlines(), now=due, policy=POLICY)
        assert escalated == [ev.SubmissionOverdue(was_due_at=due)]
        state = fold(state, escalated)
        assert next_deadline(state, POLICY) is None
        with pytest.raises(CommandRejected, match="no phase deadline has passed"):
            decide(state, c.EscalateMissedDeadlines(), now=due + DAY, policy=POLICY)

    def test_closing_the_submission_stops_its_clock(self) -> None:
        history = after(registered(), apply_to("2026-fall", "wwc-2022"))
        history = [*history, *submitted([FIRST_ID]), ev.EvidenceSubmissionClosed(submitted=[FIRST_ID])]
        assert c.EscalateMissedDeadlines.command_name() not in deadlines(given(*history), POLICY)

    def test_the_visit_must_be_scheduled_in_time_and_scheduling_stops_the_clock(self) -> None:
        # Given the last decision completes the review: the visit scheduling's clock starts
        history = latest(
            [
                *applied(),
                *submitted([FIRST_ID]),
                *assigned([FIRST_ID]),
                *declared_no_conflict(),
                ev.EvidenceSubmissionClosed(submitted=[FIRST_ID]),
            ]
        )
        history = after(
            history,
            c.ReviewEvidence(
                **REVIEWER,
                items=[
                    c.ReviewItem(criterion_id=FIRST_ID, decision="approve", checklist_met=enough(FIRST_ID))
                ],
            ),
        )
        due = T0 + POLICY.visit_scheduling_window
        assert types(history[-3:]) == ["EvidenceApproved", "EvidenceReviewCompleted", "DeadlineSet"]
        assert history[-1] == ev.DeadlineSet(deadline=ev.Deadline.VISIT_SCHEDULING, due_at=due)
        state = given(*history)
        assert decide(
            state, c.WarnOfDueDates(), now=due - POLICY.visit_scheduling_warning, policy=POLICY
        ) == [ev.VisitSchedulingDueSoon(due_at=due)]
        assert decide(state, c.EscalateMissedDeadlines(), now=due, policy=POLICY) == [
            ev.VisitSchedulingOverdue(was_due_at=due)
        ]
        # When the visit is scheduled, then nothing more is due
        scheduled = fold(state, [ev.SiteVisitScheduled(visit_date=(T0 + 40 * DAY).date())])
        assert next_deadline(scheduled, POLICY) is None

    def test_the_committee_decision_is_told_near_and_escalated(self) -> None:
        history = after(visit_pending(CRITERIA[:30]), c.WaiveSiteVisit(reason="virtual", approved_by="chair"))
        due = T0 + POLICY.committee_sla
        state = given(*history)
        assert state.phase is Phase.COMMITTEE
        assert decide(state, c.WarnOfDueDates(), now=due - POLICY.committee_warning, policy=POLICY) == [
            ev.CommitteeDecisionDueSoon(due_at=due)
        ]
        assert decide(state, c.EscalateMissedDeadlines(), now=due, policy=POLICY) == [
            ev.CommitteeDecisionOverdue(was_due_at=due)
        ]
        decided = after(history, c.DecideLevel(level=None, rationale="r"))
        assert c.EscalateMissedDeadlines.command_name() not in deadlines(given(*decided), POLICY)

    def test_a_cycle_under_the_first_rules_starts_no_clock(self) -> None:
        events = decide(
            given(*registered()),
            apply_to("2026-fall", "wwc-2022"),
            now=T0,
            rules=rules.FIRST,
        )
        assert types(events) == ["ApplicationSubmitted"]
        waived = when(given(*first(reviewed(30))), c.WaiveSiteVisit(reason="virtual"))
        assert types(waived) == ["SiteVisitWaived", "LevelRecommended"]


class TestRepeatedEscalation:
    def test_an_undecided_review_is_escalated_again_each_time_the_sla_passes(self) -> None:
        history = latest([*applied(), *submitted([FIRST_ID])])
        first = when(given(*history), c.EscalateOverdueReviews(), now=T0 + 10 * DAY)
        assert first == [
            ev.ReviewEscalated(
                criterion_id=FIRST_ID,
                reviewer_id=None,
                was_due_at=T0 + 10 * DAY,
                next_due_at=T0 + 10 * DAY + POLICY.reviewer_sla,
            )
        ]
        state = given(*history, *first)
        assert state.cycle is not None and state.cycle.items[FIRST_ID].is_escalated
        assert next_deadline(state) == T0 + 20 * DAY
        again = when(state, c.EscalateOverdueReviews(), now=T0 + 20 * DAY)
        assert [e.was_due_at for e in again if isinstance(e, ev.ReviewEscalated)] == [T0 + 20 * DAY]

    def test_a_reassignment_starts_a_new_sla_escalated_in_its_turn(self) -> None:
        # Given an item escalated once under the first rules' way (no next due date)...
        history = latest(
            [
                *applied(),
                *submitted([FIRST_ID]),
                ev.ReviewEscalated(criterion_id=FIRST_ID, reviewer_id=None, was_due_at=T0 + 10 * DAY),
            ]
        )
        assert next_deadline(given(*history)) is None
        # When it is reassigned, then the new reviewer's SLA runs and is escalated when it passes
        reassigned = [
            *history,
            ev.ReviewerAssigned(criterion_id=FIRST_ID, reviewer_id="rev-bo", due_at=T0 + 21 * DAY),
        ]
        assert next_deadline(given(*reassigned)) == T0 + 21 * DAY
        item = given(*reassigned).cycle.items[FIRST_ID]  # type: ignore[union-attr]
        assert not item.is_escalated, "the new reviewer's SLA has not passed"

    def test_under_the_first_rules_an_item_is_escalated_once_ever(self) -> None:
        history = first([*applied(), *submitted([FIRST_ID])])
        [escalated] = when(given(*history), c.EscalateOverdueReviews(), now=T0 + 10 * DAY)
        assert isinstance(escalated, ev.ReviewEscalated) and escalated.next_due_at is None
        reassigned = [
            *history,
            escalated,
            ev.ReviewerAssigned(criterion_id=FIRST_ID, reviewer_id="rev-bo", due_at=T0 + 21 * DAY),
        ]
        assert next_deadline(given(*reassigned)) is None


# --- deadlines extended with a reason -------------------------------------------------------------


def extend(deadline: str, due_at: datetime, criterion_id: str | None = None) -> c.ExtendDeadline:
    return c.ExtendDeadline(
        deadline=deadline, criterion_id=criterion_id, due_at=due_at, reason="flooding", extended_by="op-1"
    )


class TestExtendDeadline:
    def test_the_submission_deadline_moves_and_its_clock_runs_to_the_new_date(self) -> None:
        history = after(registered(), apply_to("2026-fall", "wwc-2022"))
        was = T0 + POLICY.submission_window
        new = was + 30 * DAY
        # Given its staff were told the date was near
        history = [*history, ev.SubmissionDueSoon(due_at=was)]
        events = when(given(*history), extend("submission", new), now=was - DAY)
        assert events == [
            ev.DeadlineExtended(
                deadline=ev.Deadline.SUBMISSION,
                was_due_at=was,
                due_at=new,
                reason="flooding",
                extended_by="op-1",
            )
        ]
        state = given(*history, *events)
        # Then they are told again before the new date, and it is escalated only after it
        assert next_deadline(state, POLICY) == new - POLICY.submission_warning
        assert c.EscalateMissedDeadlines() not in due_timer_commands(state, was, POLICY)
        assert c.EscalateMissedDeadlines() in due_timer_commands(state, new, POLICY)

    def test_a_reviewers_deadline_moves_and_names_the_reviewer(self) -> None:
        history = latest(
            [
                *applied(),
                *submitted([FIRST_ID]),
                ev.ReviewerAssigned(criterion_id=FIRST_ID, reviewer_id="rev-ana", due_at=T0 + 10 * DAY),
            ]
        )
        [extended] = when(given(*history), extend("review", T0 + 15 * DAY, FIRST_ID))
        assert isinstance(extended, ev.DeadlineExtended)
        assert (extended.reviewer_id, extended.was_due_at) == ("rev-ana", T0 + 10 * DAY)
        item = given(*history, extended).cycle.items[FIRST_ID]  # type: ignore[union-attr]
        assert item.review_due_at == T0 + 15 * DAY

    def test_a_clarification_answer_may_come_later(self) -> None:
        asked = ev.ClarificationRequested(
            criterion_id=FIRST_ID, reviewer_id="rev-ana", question="?", due_at=T0 + 25 * DAY
        )
        history = latest([*applied(), *submitted([FIRST_ID]), asked])
        [extended] = when(given(*history), extend("clarification", T0 + 35 * DAY, FIRST_ID))
        state = given(*history, extended)
        assert state.cycle is not None
        assert state.cycle.items[FIRST_ID].clarification_due_at == T0 + 35 * DAY
        assert c.ExpireClarifications() not in due_timer_commands(state, T0 + 30 * DAY)

    def test_a_new_date_in_the_past_is_refused(self) -> None:
        history = after(registered(), apply_to("2026-fall", "wwc-2022"))
        with pytest.raises(CommandRejected, match="is in the past; give a later one"):
            when(given(*history), extend("submission", T0 - DAY), now=T0)

    def test_an_earlier_date_is_not_an_extension(self) -> None:
        history = after(registered(), apply_to("2026-fall", "wwc-2022"))
        with pytest.raises(CommandRejected, match="an extension moves the submission deadline later"):
            when(given(*history), extend("submission", T0 + DAY), now=T0)

    def test_a_deadline_that_is_not_running_is_refused(self) -> None:
        # The committee's clock has not started while the city submits; a decided item has no review deadline
        history = after(registered(), apply_to("2026-fall", "wwc-2022"))
        with pytest.raises(CommandRejected, match="the committee deadline is not running"):
            when(given(*history), extend("committee", T0 + 60 * DAY))
        decided = latest([*applied(), *submitted([FIRST_ID]), *approved([FIRST_ID])])
        with pytest.raises(CommandRejected, match=f"the review deadline of {FIRST_ID} is not running"):
            when(given(*decided), extend("review", T0 + 60 * DAY, FIRST_ID))
        # A cycle under the first rules has no phase clocks at all
        with pytest.raises(CommandRejected, match="the submission deadline is not running"):
            when(given(*applied()), extend("submission", T0 + 60 * DAY))

    def test_a_criterions_deadline_needs_its_criterion_and_a_phases_none(self) -> None:
        with pytest.raises(ValidationError, match="name its criterion_id"):
            extend("review", T0 + DAY)
        with pytest.raises(ValidationError, match="give no criterion_id"):
            extend("committee", T0 + DAY, FIRST_ID)

    def test_who_extends_it_is_named(self) -> None:
        history = after(registered(), apply_to("2026-fall", "wwc-2022"))
        unnamed = extend("submission", T0 + 120 * DAY).model_copy(update={"extended_by": None})
        with pytest.raises(InvalidCommand, match="names who extends it"):
            when(given(*history), unnamed)

    def test_nothing_to_extend_before_applying(self) -> None:
        with pytest.raises(CommandRejected, match="ExtendDeadline needs the city to be evidence"):
            when(given(*registered()), extend("submission", T0 + DAY))


# --- business days ----------------------------------------------------------------------------------


class TestBusinessDays:
    def test_weekends_and_holidays_are_not_counted(self) -> None:
        friday = datetime(2026, 3, 6, 17, 0, tzinfo=T0.tzinfo)
        assert add_business_days(friday, 1) == friday + 3 * DAY  # Monday, same time
        assert add_business_days(friday, 1, {date(2026, 3, 9)}) == friday + 4 * DAY
        assert add_business_days(T0, 25) == T0 + 35 * DAY  # five weeks from a Monday
        assert add_business_days(T0, 0) == T0

    def test_a_clarification_is_due_in_business_days_when_the_programme_counts_them(self) -> None:
        leed = ProgrammePolicy(clarification_business_days=25, holidays=(date(2026, 3, 9),))
        assert clarification_due(T0, leed, rules.PROGRAMME_REVIEW) == T0 + 36 * DAY
        assert clarification_due(T0, leed, rules.FIRST) == T0 + leed.clarification_window
        assert clarification_due(T0, POLICY, rules.PROGRAMME_REVIEW) == T0 + POLICY.clarification_window

    def test_a_reviewers_question_gets_the_business_day_window(self) -> None:
        leed = ProgrammePolicy(clarification_business_days=25)
        history = latest([*applied(), *submitted([FIRST_ID]), *assigned([FIRST_ID]), *declared_no_conflict()])
        question = c.ReviewItem(criterion_id=FIRST_ID, decision="request_clarification", note="Which year?")
        [asked] = decide(given(*history), c.ReviewEvidence(**REVIEWER, items=[question]), now=T0, policy=leed)
        assert isinstance(asked, ev.ClarificationRequested) and asked.due_at == T0 + 35 * DAY


# --- who hears of it --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "kind", "audience"),
    [
        (ev.SubmissionDueSoon(due_at=T0), NoticeKind.SUBMISSION_DUE_SOON, Audience.CITY),
        (ev.SubmissionOverdue(was_due_at=T0), NoticeKind.SUBMISSION_OVERDUE, Audience.COMMITTEE),
        (ev.VisitSchedulingDueSoon(due_at=T0), NoticeKind.VISIT_SCHEDULING_DUE_SOON, Audience.COMMITTEE),
        (ev.VisitSchedulingOverdue(was_due_at=T0), NoticeKind.VISIT_SCHEDULING_OVERDUE, Audience.COMMITTEE),
        (ev.CommitteeDecisionDueSoon(due_at=T0), NoticeKind.COMMITTEE_DECISION_DUE_SOON, Audience.COMMITTEE),
        (
            ev.CommitteeDecisionOverdue(was_due_at=T0),
            NoticeKind.COMMITTEE_DECISION_OVERDUE,
            Audience.COMMITTEE,
        ),
    ],
)
def test_each_clock_reaches_its_people(event: ev.DomainEvent, kind: NoticeKind, audience: Audience) -> None:
    notice = notice_for(event)
    assert notice is not None and (notice.kind, notice.audience, notice.due_at) == (kind, audience, T0)


def test_an_extension_tells_whoever_owes_what_is_due_and_why() -> None:
    def extended(deadline: ev.Deadline, reviewer_id: str | None = None) -> ev.DeadlineExtended:
        return ev.DeadlineExtended(
            deadline=deadline,
            criterion_id=FIRST_ID if deadline in (ev.Deadline.REVIEW, ev.Deadline.CLARIFICATION) else None,
            was_due_at=T0,
            due_at=T0 + DAY,
            reason="flooding",
            extended_by="op-1",
            reviewer_id=reviewer_id,
        )

    to_city = notice_for(extended(ev.Deadline.CLARIFICATION))
    assert to_city is not None and (to_city.audience, to_city.text, to_city.due_at) == (
        Audience.CITY,
        "flooding",
        T0 + DAY,
    )
    to_reviewer = notice_for(extended(ev.Deadline.REVIEW, "rev-ana"))
    assert to_reviewer is not None and (to_reviewer.audience, to_reviewer.reviewer_id) == (
        Audience.REVIEWER,
        "rev-ana",
    )
    assert notice_for(extended(ev.Deadline.REVIEW)) is None, "nobody holds an unassigned review"
    to_committee = notice_for(extended(ev.Deadline.COMMITTEE))
    assert to_committee is not None and to_committee.audience is Audience.COMMITTEE


def test_the_state_carries_its_clocks_across_serialisation() -> None:
    history = after(registered(), apply_to("2026-fall", "wwc-2022"))
    state = given(*history)
    assert CityState.model_validate_json(state.model_dump_json()) == state
    assert state.cycle is not None and ev.Deadline.SUBMISSION.value in state.cycle.clocks
