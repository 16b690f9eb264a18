"""The activities: the only place a city's workflow touches I/O. Each is idempotent, so Temporal
may retry it after any failure, including one after its transaction committed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.names import (
    FIND_DUE_REMINDERS,
    RECORD_EVENTS,
    DueReminder,
    FindDueRemindersInput,
    FindDueRemindersResult,
    RecordedEventData,
    RecordEventsInput,
    RecordEventsResult,
)
from domain.deadlines import due_reminder_thresholds
from eventstore import (
    Actor,
    ConcurrencyConflict,
    Correlation,
    DuplicateEventConflict,
    EventStore,
    InvalidEventPayload,
    NewEvent,
    UnknownEventType,
)
from readmodel import city_stream, expiring_certifications

log = structlog.get_logger("citycert.activities")

# Refusals no retry can mend: the workflow and the store disagree, or the event is malformed.
_NOT_RETRYABLE = (ConcurrencyConflict, DuplicateEventConflict, InvalidEventPayload, UnknownEventType)


class CityActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name=RECORD_EVENTS)
    async def record_events(self, input: RecordEventsInput) -> RecordEventsResult:
        """Append one command's events to the city's stream; a retry returns the original result.
        A ReminderSent queues its notification in the same transaction (the city projector's)."""
        logger = log.bind(city_id=input.city_id, events=len(input.events))
        new = [
            NewEvent(
                event_id=e.event_id,
                type=e.type,
                data=e.data,
                occurred_at=e.occurred_at,
                actor=Actor(role=e.actor.role, id=e.actor.id),
                correlation=Correlation(workflow_id=e.workflow_id, run_id=e.run_id),
            )
            for e in input.events
        ]
        try:
            # A local activity's retry may come from a workflow task retried on another worker,
            # which decided the command again at its own `now`: the recorded decision stands.
            result = await self.store.append(
                city_stream(input.city_id), input.expected_version, new, adopt_redecided=True
            )
        except _NOT_RETRYABLE as refusal:
            logger.error("record_events.refused", error=str(refusal))
            raise ApplicationError(str(refusal), type=type(refusal).__name__, non_retryable=True) from refusal
        logger.info(
            "record_events.done",
            version=result.version,
            replayed=result.replayed,
            adopted=bool(result.adopted),
        )
        return RecordEventsResult(
            version=result.version,
            positions=list(result.positions),
            replayed=result.replayed,
            adopted=[RecordedEventData(type=a.type, data=a.data) for a in result.adopted],
        )

    @activity.defn(name=FIND_DUE_REMINDERS)
    async def find_due_reminders(self, input: FindDueRemindersInput) -> FindDueRemindersResult:
        """Certified cities with a reminder threshold that has come and was not yet sent."""
        thresholds = tuple(input.thresholds)
        expiring = await expiring_certifications(self.store, input.now, max(thresholds, default=0))
        due = [
            DueReminder(city_id=cert.city_id, threshold_days=days, valid_until=cert.valid_until)
            for cert in expiring
            for days in due_reminder_thresholds(cert.valid_until, cert.reminders_sent, input.now, thresholds)
        ]
        log.info("find_due_reminders.done", candidates=len(expiring), due=len(due))
        return FindDueRemindersResult(reminders=due)

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_events, self.find_due_reminders]
