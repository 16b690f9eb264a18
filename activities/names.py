"""Activity names and their input/output models: all that workflows may know of activities.

Workflows import this module (passed through the sandbox), never the activities' I/O code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain import Actor

RECORD_EVENTS = "record_events"
FIND_DUE_REMINDERS = "find_due_reminders"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EventToRecord(_Model):
    """A domain event with the envelope fields the workflow knows: id, time, actor, correlation."""

    event_id: UUID
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    actor: Actor
    workflow_id: str
    run_id: str


class RecordEventsInput(_Model):
    city_id: str
    expected_version: int
    events: list[EventToRecord]


class RecordedEventData(_Model):
    type: str
    data: dict[str, Any]


class RecordEventsResult(_Model):
    version: int
    positions: list[int]
    replayed: bool  # True when a retry found the events already recorded
    # The events as first recorded, when a retry of a lost workflow task decided the command again
    # at a later moment (so its times differ): the workflow folds these instead of its own.
    adopted: list[RecordedEventData] = []


class FindDueRemindersInput(_Model):
    now: datetime
    thresholds: list[int]


class DueReminder(_Model):
    city_id: str
    threshold_days: int
    valid_until: datetime


class FindDueRemindersResult(_Model):
    reminders: list[DueReminder]
