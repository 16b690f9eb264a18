"""Events written by last year's code are read as this year's model, through upcasters."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from eventstore import EventRegistry, EventStore, InvalidEventPayload, NewEvent, UnreadableEvent
from tests.integration.eventstore.events import ACTOR, AT


class BudgetPublishedV1(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 1

    amount: int


class BudgetPublished(BaseModel):
    """Version 3: the amount got a currency (v2), then a year (v3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    schema_version: ClassVar[int] = 3

    amount: int
    currency: str
    year: int | None


def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "currency": "USD"}  # every budget before v2 was in dollars


def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "year": None}  # not recorded before v3


LAST_YEAR = EventRegistry({"BudgetPublished": BudgetPublishedV1})
THIS_YEAR = EventRegistry(
    {"BudgetPublished": BudgetPublished},
    {("BudgetPublished", 1): v1_to_v2, ("BudgetPublished", 2): v2_to_v3},
)


def published(**data: Any) -> NewEvent:
    return NewEvent(uuid.uuid4(), "BudgetPublished", data, AT, ACTOR)


async def test_an_old_event_is_upcast_step_by_step_when_read(database_url):
    old = await EventStore.connect(database_url, registry=LAST_YEAR)
    new = await EventStore.connect(database_url, registry=THIS_YEAR)
    try:
        # Given an event written by last year's code at schema version 1,
        await old.append("budget-lakeside", 0, [published(amount=120)])
        # and one written today at version 3,
        await new.append("budget-lakeside", 1, [published(amount=130, currency="EUR", year=2026)])

        # when today's code reads the stream, both arrive as today's model.
        first, second = await new.read_stream("budget-lakeside")
        assert (first.schema_version, first.data) == (3, {"amount": 120, "currency": "USD", "year": None})
        assert (second.schema_version, second.data) == (3, {"amount": 130, "currency": "EUR", "year": 2026})
        assert new.to_domain(first) == BudgetPublished(amount=120, currency="USD", year=None)
        (logged, _) = (await new.read_all()).events
        assert logged.data == first.data
        # The stored event is unchanged, so its hash still verifies.
        assert (await new.verify()).ok
    finally:
        await old.close()
        await new.close()


async def test_a_missing_upcaster_makes_the_event_unreadable_not_silently_wrong(database_url):
    old = await EventStore.connect(database_url, registry=LAST_YEAR)
    gap = EventRegistry({"BudgetPublished": BudgetPublished}, {("BudgetPublished", 1): v1_to_v2})
    broken = await EventStore.connect(database_url, registry=gap)
    try:
        await old.append("budget-lakeside", 0, [published(amount=120)])
        with pytest.raises(UnreadableEvent, match="no upcaster to v3"):
            await broken.read_stream("budget-lakeside")
    finally:
        await old.close()
        await broken.close()


async def test_new_events_are_written_at_the_current_schema_version(database_url):
    new = await EventStore.connect(database_url, registry=THIS_YEAR)
    try:
        stale = NewEvent(
            uuid.uuid4(), "BudgetPublished", {"amount": 1, "currency": "USD", "year": 1}, AT, ACTOR, None, 2
        )
        with pytest.raises(InvalidEventPayload, match="schema version 3, not 2"):
            await new.append("budget-lakeside", 0, [stale])
    finally:
        await new.close()
