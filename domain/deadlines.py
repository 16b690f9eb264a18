"""Which deadlines a city's state is waiting on, and which timer commands are due at a moment.

The workflow sleeps until `next_deadline` and then gives the `due_timer_commands`; keeping both here
makes the timers' rules testable without Temporal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain import commands as cmd
from domain import events as ev
from domain.calendar import add_business_days
from domain.policy import ProgrammePolicy
from domain.rules import PROGRAMME_REVIEW
from domain.state import AWAITING_REVIEWER, CityState, ItemStatus, Phase, PhaseClock


def clarification_due(now: datetime, policy: ProgrammePolicy, rules: int) -> datetime:
    """When a clarification asked now is to be answered: clarification_business_days business
    days on when the programme counts so (under its review rules), else clarification_window."""
    if rules >= PROGRAMME_REVIEW and policy.clarification_business_days:
        return add_business_days(now, policy.clarification_business_days, policy.holidays)
    return now + policy.clarification_window


def running_clocks(state: CityState) -> dict[ev.Deadline, PhaseClock]:
    """The phase clocks that are running: the submission while the city submits, the visit's
    scheduling until a visit is scheduled, held or waived, the committee's until it decides."""
    cycle = state.cycle
    if not cycle or not cycle.clocks:
        return {}
    running = {
        ev.Deadline.SUBMISSION: state.phase is Phase.EVIDENCE,
        ev.Deadline.VISIT_SCHEDULING: state.phase is Phase.SITE_VISIT and cycle.site_visit == "pending",
        ev.Deadline.COMMITTEE: state.phase is Phase.COMMITTEE,
    }
    return {
        deadline: clock
        for deadline, clock in ((d, cycle.clocks.get(d.value)) for d in ev.PHASE_DEADLINES)
        if clock is not None and running[deadline]
    }


def phase_windows(policy: ProgrammePolicy) -> dict[ev.Deadline, tuple[timedelta, timedelta]]:
    """Each phase clock's length and how long before its end its people are told it is near."""
    return {
        ev.Deadline.SUBMISSION: (policy.submission_window, policy.submission_warning),
        ev.Deadline.VISIT_SCHEDULING: (policy.visit_scheduling_window, policy.visit_scheduling_warning),
        ev.Deadline.COMMITTEE: (policy.committee_sla, policy.committee_warning),
    }


def missed_deadlines(state: CityState) -> list[tuple[datetime, ev.DomainEvent]]:
    """The running phase clocks' due dates and the event escalating each once it has passed."""
    return [
        (clock.due_at, ev.OVERDUE[deadline](was_due_at=clock.due_at))
        for deadline, clock in running_clocks(state).items()
        if clock.escalated_for != clock.due_at
    ]


def due_date_warnings(state: CityState, policy: ProgrammePolicy) -> list[tuple[datetime, ev.DomainEvent]]:
    """When each due date's people are to be told it is near, and the event that tells them: a
    reviewer's decision (once assigned) review_warning before it, a city's answer
    clarification_warning before it, a phase clock's end its warning before it; each due date
    once (a new due date is told again)."""
    found: list[tuple[datetime, ev.DomainEvent]] = []
    windows = phase_windows(policy)
    for deadline, clock in running_clocks(state).items():
        if clock.warned_for != clock.due_at and clock.escalated_for != clock.due_at:
            found.append((clock.due_at - windows[deadline][1], ev.DUE_SOON[deadline](due_at=clock.due_at)))
    cycle = state.cycle
    if not cycle or state.phase not in (Phase.EVIDENCE, Phase.REVIEW, Phase.APPEAL_REVIEW):
        return found
    for item in cycle.items.values():
        due = item.review_due_at
        if (
            item.status in AWAITING_REVIEWER
            and item.reviewer_id
            and due
            and not item.escalated
            and item.warned_for != due
        ):
            found.append(
                (
                    due - policy.review_warning,
                    ev.ReviewDueSoon(
                        criterion_id=item.criterion_id, reviewer_id=item.reviewer_id, due_at=due
                    ),
                )
            )
        due = item.clarification_due_at
        if item.status is ItemStatus.CLARIFICATION_REQUESTED and due and item.warned_for != due:
            found.append(
                (
                    due - policy.clarification_warning,
                    ev.ClarificationDueSoon(criterion_id=item.criterion_id, due_at=due),
                )
            )
    return found


def deadlines(state: CityState, warnings: ProgrammePolicy | None = None) -> dict[str, datetime]:
    """Each pending timer command's earliest deadline, by command name; with `warnings` (the
    policy), also when the next due date is to be told near (runs recorded before these warnings
    pass None and replay as they ran)."""
    found: dict[str, list[datetime]] = {}
    if warnings is not None:
        for at, _ in due_date_warnings(state, warnings):
            found.setdefault(cmd.WarnOfDueDates.command_name(), []).append(at)
    cycle = state.cycle
    if cycle and state.phase in (Phase.EVIDENCE, Phase.REVIEW, Phase.APPEAL_REVIEW):
        for item in cycle.items.values():
            if item.status is ItemStatus.CLARIFICATION_REQUESTED and item.clarification_due_at:
                found.setdefault(cmd.ExpireClarifications.command_name(), []).append(
                    item.clarification_due_at
                )
            if item.status in AWAITING_REVIEWER and not item.escalated and item.review_due_at:
                found.setdefault(cmd.EscalateOverdueReviews.command_name(), []).append(item.review_due_at)
    for at, _ in missed_deadlines(state):
        found.setdefault(cmd.EscalateMissedDeadlines.command_name(), []).append(at)
    if cycle and state.phase is Phase.APPEAL_WINDOW and cycle.appeal_deadline:
        found[cmd.CloseAppealWindow.command_name()] = [cycle.appeal_deadline]
    if state.certification and state.phase is not Phase.WITHDRAWN:
        found[cmd.LapseCertification.command_name()] = [state.certification.valid_until]
    return {name: min(times) for name, times in found.items()}


def next_deadline(state: CityState, warnings: ProgrammePolicy | None = None) -> datetime | None:
    return min(deadlines(state, warnings).values(), default=None)


_TIMERS: dict[str, cmd.Command] = {
    cmd.ExpireClarifications.command_name(): cmd.ExpireClarifications(),
    cmd.EscalateOverdueReviews.command_name(): cmd.EscalateOverdueReviews(),
    cmd.CloseAppealWindow.command_name(): cmd.CloseAppealWindow(),
    cmd.LapseCertification.command_name(): cmd.LapseCertification(),
    cmd.WarnOfDueDates.command_name(): cmd.WarnOfDueDates(),
    cmd.EscalateMissedDeadlines.command_name(): cmd.EscalateMissedDeadlines(),
}


def due_timer_commands(
    state: CityState, now: datetime, warnings: ProgrammePolicy | None = None
) -> list[cmd.Command]:
    """The timer commands whose deadline has come, earliest first."""
    due = sorted((at, name) for name, at in deadlines(state, warnings).items() if at <= now)
    return [_TIMERS[name] for _, name in due]


def due_reminder_thresholds(
    valid_until: datetime, sent: tuple[int, ...] | list[int], now: datetime, thresholds: tuple[int, ...]
) -> list[int]:
    """Reminder thresholds (days before expiry) that have come and were not yet sent, nearest last.

    A city whose reminders were missed (a sweep did not run for a while) gets only the nearest
    one: three reminders on one morning would tell it nothing the last one does not.
    """
    come = [
        d for d in sorted(thresholds, reverse=True) if valid_until - timedelta(days=d) <= now < valid_until
    ]
    return [come[-1]] if come and come[-1] not in sent else []
