"""Test-only events, for store behaviour that does not depend on the domain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from eventstore import Actor, Correlation, EventRegistry, NewEvent

AT = datetime(2026, 5, 4, 12, 30, 15, 123456, tzinfo=UTC)
ACTOR = Actor("system", "tests")


class Pinged(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 1

    n: int
    note: str = ""


class Measured(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 1

    value: float
    values: list[float] = []
    label: str = ""


TEST_REGISTRY = EventRegistry({"Pinged": Pinged, "Measured": Measured})


def ping(n: int, *, note: str = "", event_id: uuid.UUID | None = None, **envelope: Any) -> NewEvent:
    return NewEvent(
        event_id=event_id or uuid.uuid4(),
        type="Pinged",
        data={"n": n, "note": note},
        occurred_at=envelope.pop("occurred_at", AT),
        actor=envelope.pop("actor", ACTOR),
        correlation=envelope.pop("correlation", Correlation("wf-1", "run-1")),
        **envelope,
    )


def pings(*ns: int) -> list[NewEvent]:
    return [ping(n) for n in ns]
