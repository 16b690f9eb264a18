"""The activities: the only place a city's workflow touches I/O. Each is idempotent, so Temporal
may retry it after any failure, including one after its transaction committed."""

from __future__ import annotations

import json
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
    city_stream,
)

log = structlog.get_logger("citycert.activities")

# Refusals no retry can mend: the workflow and the store disagree, or the event is malformed.
_NOT_RETRYABLE = (ConcurrencyConflict, DuplicateEventConflict, InvalidEventPayload, UnknownEventType)

_QUEUE_REMINDER = """
INSERT INTO notification_outbox (event_id, city_id, kind, payload, created_at)
VALUES ($1, $2, 'certification_expiry_reminder', $3::jsonb, now())
ON CONFLICT (event_id) DO NOTHING
"""

_CERTIFIED_EXPIRING = """
SELECT city_id, valid_until, state -> 'certification' -> 'reminders_sent' AS sent
FROM city_status
WHERE valid_until > $1 AND valid_until <= $1 + make_interval(days => $2) AND phase <> 'withdrawn'
ORDER BY city_id
"""


class CityActivities:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    @activity.defn(name=RECORD_EVENTS)
    async def record_events(self, input: RecordEventsInput) -> RecordEventsResult:
        """Append one command's events to the city's stream; a retry returns the original result."""
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
            result = await self.store.append(city_stream(input.city_id), input.expected_version, new)
        except _NOT_RETRYABLE as refusal:
            logger.error("record_events.refused", error=str(refusal))
            raise ApplicationError(str(refusal), type=type(refusal).__name__, non_retryable=True) from refusal
        # The outbox row is keyed by the event id: a retry after a crash here queues it once.
        reminders = [e for e in input.events if e.type == "ReminderSent"]
        if reminders:
            async with self.store.connection() as conn:
                for reminder in reminders:
                    await conn.execute(
                        _QUEUE_REMINDER, reminder.event_id, input.city_id, _json(reminder.data)
                    )
        logger.info("record_events.done", version=result.version, replayed=result.replayed)
        return RecordEventsResult(
            version=result.version, positions=list(result.positions), replayed=result.replayed
        )

    @activity.defn(name=FIND_DUE_REMINDERS)
    async def find_due_reminders(self, input: FindDueRemindersInput) -> FindDueRemindersResult:
        """Certified cities with a reminder threshold that has come and was not yet sent."""
        thresholds = tuple(input.thresholds)
        async with self.store.connection() as conn:
            rows = await conn.fetch(_CERTIFIED_EXPIRING, input.now, max(thresholds, default=0))
        due = [
            DueReminder(city_id=row["city_id"], threshold_days=days, valid_until=row["valid_until"])
            for row in rows
            for days in due_reminder_thresholds(
                row["valid_until"], _json_list(row["sent"]), input.now, thresholds
            )
        ]
        log.info("find_due_reminders.done", candidates=len(rows), due=len(due))
        return FindDueRemindersResult(reminders=due)

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_events, self.find_due_reminders]


def _json(data: Any) -> str:
    return json.dumps(data, sort_keys=True)


def _json_list(raw: Any) -> list[int]:
    value = json.loads(raw) if isinstance(raw, str) else raw
    return [int(v) for v in value or []]
