"""The timers a city waits on: given a state, which deadline comes next and what is due then."""

from __future__ import annotations

import pytest

from domain import CommandRejected, ProgrammePolicy, decide, fold
from domain import commands as c
from domain import events as ev
from domain.deadlines import due_reminder_thresholds, due_timer_commands, next_deadline
from domain.levels import Level
from tests.unit.domain.story import DAY, T0, applied, certified, decided, given, registered, submitted


def test_a_registered_city_waits_on_nothing() -> None:
    assert next_deadline(given(*registered())) is None


def test_submitted_evidence_waits_on_the_reviewer_deadline_then_escalates() -> None:
    state = given(*applied(), *submitted(["DM1"]))
    assert next_deadline(state) == T0 + 10 * DAY
    assert due_timer_commands(state, T0 + 9 * DAY) == []
    assert due_timer_commands(state, T0 + 10 * DAY) == [c.EscalateOverdueReviews()]
    escalated = given(
        *applied(), *submitted(["DM1"]), *decide(state, c.EscalateOverdueReviews(), now=T0 + 10 * DAY)
    )
    # fires again only once the reviewer SLA has passed once more
    assert next_deadline(escalated) == T0 + 20 * DAY


def test_the_earliest_of_clarification_and_review_deadlines_comes_first() -> None:
    history = [
        *applied(),
        *submitted(["DM1", "DM2"]),
        ev.ClarificationRequested(criterion_id="DM1", reviewer_id="r", question="?", due_at=T0 + 5 * DAY),
    ]
    state = given(*history)
    assert next_deadline(state) == T0 + 5 * DAY
    assert due_timer_commands(state, T0 + 11 * DAY) == [c.ExpireClarifications(), c.EscalateOverdueReviews()]


def test_a_decision_waits_on_the_appeal_window() -> None:
    state = given(*decided(Level.GOLD))
    assert next_deadline(state) == T0 + 30 * DAY
    assert due_timer_commands(state, T0 + 30 * DAY) == [c.CloseAppealWindow()]


def test_a_certification_waits_on_its_validity_end_and_lapses() -> None:
    state = given(*certified())
    end = T0 + 3 * 365 * DAY
    assert next_deadline(state) == end
    [lapse] = due_timer_commands(state, end)
    lapsed = fold(state, decide(state, lapse, now=end))
    assert lapsed.certification is None and next_deadline(lapsed) is None


class TestDueReminders:
    end = T0 + 1000 * DAY

    def test_nothing_is_due_long_before_expiry(self) -> None:
        assert due_reminder_thresholds(self.end, (), self.end - 200 * DAY, (180, 90, 30)) == []

    def test_each_threshold_comes_in_turn(self) -> None:
        assert due_reminder_thresholds(self.end, (), self.end - 180 * DAY, (180, 90, 30)) == [180]
        assert due_reminder_thresholds(self.end, (180,), self.end - 100 * DAY, (180, 90, 30)) == []
        assert due_reminder_thresholds(self.end, (180,), self.end - 90 * DAY, (180, 90, 30)) == [90]

    def test_after_a_missed_sweep_only_the_nearest_is_sent(self) -> None:
        assert due_reminder_thresholds(self.end, (), self.end - 10 * DAY, (180, 90, 30)) == [30]

    def test_nothing_after_expiry(self) -> None:
        assert due_reminder_thresholds(self.end, (), self.end, (180, 90, 30)) == []


# --- due dates told near (runs that warn: the policy is passed) ------------------------------------

POLICY = ProgrammePolicy()  # review_warning 2 days, clarification_warning 5 days


def test_an_assigned_reviewer_is_told_two_days_before_their_decision_is_due() -> None:
    # Given DM1 submitted and assigned to rev-ana, due in ten days
    state = given(
        *applied(),
        *submitted(["DM1"]),
        ev.ReviewerAssigned(criterion_id="DM1", reviewer_id="rev-ana", due_at=T0 + 10 * DAY),
    )
    # Then the next deadline is the warning, eight days on; a run that does not warn waits for the due date
    assert next_deadline(state, POLICY) == T0 + 8 * DAY
    assert next_deadline(state) == T0 + 10 * DAY
    assert due_timer_commands(state, T0 + 8 * DAY, POLICY) == [c.WarnOfDueDates()]
    # When the warning is given, then it names the reviewer and the due date, once
    [warned] = decide(state, c.WarnOfDueDates(), now=T0 + 8 * DAY, policy=POLICY)
    assert warned == ev.ReviewDueSoon(criterion_id="DM1", reviewer_id="rev-ana", due_at=T0 + 10 * DAY)
    after = fold(state, [warned])
    assert next_deadline(after, POLICY) == T0 + 10 * DAY, "told once; the escalation stays"


def test_nobody_is_told_of_a_review_no_reviewer_holds() -> None:
    state = given(*applied(), *submitted(["DM1"]))
    assert next_deadline(state, POLICY) == T0 + 10 * DAY
    assert c.WarnOfDueDates() not in due_timer_commands(state, T0 + 9 * DAY, POLICY)


def test_the_city_is_told_five_days_before_its_answer_is_due_and_again_for_a_new_question() -> None:
    asked = ev.ClarificationRequested(criterion_id="DM1", reviewer_id="r", question="?", due_at=T0 + 25 * DAY)
    state = given(*applied(), *submitted(["DM1"]), asked)
    assert next_deadline(state, POLICY) == T0 + 20 * DAY
    [warned] = decide(state, c.WarnOfDueDates(), now=T0 + 20 * DAY, policy=POLICY)
    assert warned == ev.ClarificationDueSoon(criterion_id="DM1", due_at=T0 + 25 * DAY)
    told = fold(state, [warned])
    with pytest.raises(CommandRejected, match="no due date is near"):
        decide(told, c.WarnOfDueDates(), now=T0 + 21 * DAY, policy=POLICY)
