"""Which deadlines a city's state is waiting on, and which timer commands are due at a moment.

The workflow sleeps until `next_deadline` and then gives the `due_timer_commands`; keeping both here
makes the timers' rules testable without Temporal.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain import commands as cmd
from domain import events as ev
from domain.policy import ProgrammePolicy
from domain.state import AWAITING_REVIEWER, CityState, ItemStatus, Phase


def due_date_warnings(state: CityState, policy: ProgrammePolicy) -> list[tuple[datetime, ev.DomainEvent]]:
    """When each due date's people are to be told it is near, and the event that tells them: a
    reviewer's decision (once assigned) review_warning before it, a city's answer
    clarification_warning before it; each due date once (a new due date is told again)."""
    cycle = state.cycle
    if not cycle or state.phase not in (Phase.EVIDENCE, Phase.REVIEW, Phase.APPEAL_REVIEW):
        return []
    found: list[tuple[datetime, ev.DomainEvent]] = []
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
