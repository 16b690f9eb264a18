"""The floor workflows' names and models (bench/floor_workflow.py), in a module of their own so the
floor's worker can pass them through the sandbox, as ours passes workflows.contracts through: the
same per-run cost for both (importing pydantic models is most of a workflow module's import).
Standard library, pydantic and temporalio only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

FLOOR_INSERT = "floor_insert"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FloorInput(_Model):
    city_id: str
    updates: int  # Updates in one cycle: the timer starts after the last one
    window: timedelta  # the appeal window's length
    award_rows: int  # rows the timer's activity writes (ours: CertificationAwarded)
    version: int = 0
    cycle_over: bool = False  # set for the run after continue-as-new


class FloorRequest(_Model):
    name: str
    payload: dict[str, Any] = {}
    actor_role: str
    actor_id: str
    rows: int  # rows this command writes: as many as our decider makes events for it


class FloorRow(_Model):
    event_id: UUID
    type: str
    data: dict[str, Any]


class FloorInsertInput(_Model):
    stream_id: str
    expected_version: int
    occurred_at: datetime
    actor_role: str
    actor_id: str
    workflow_id: str
    run_id: str
    rows: list[FloorRow]


class FloorInsertResult(_Model):
    version: int


class FloorResult(_Model):
    rows: list[FloorRow]
    version: int


class NoopInput(_Model):
    city_id: str
    updates: int  # Updates to take before the run ends
