"""The scenarios through the event store: each step decided on the state folded from the stream,
its events appended as one batch through the city read model's projector, as the workflow's
activity does. The outcome is read back: the stream's events and the city_status row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import eventstore
import readmodel
from domain import Actor, DomainError, decide
from domain.state import CitySummary
from eventstore import EventStore, NewEvent
from tests.scenarios import Outcome, Recorded, Scenario
from tests.unit.domain.scenario_runner import T0


@dataclass(frozen=True)
class StoreRunner:
    store: EventStore
    start: datetime = T0

    async def __call__(self, scenario: Scenario) -> Outcome:
        stream = readmodel.city_stream(scenario.city_id)
        now = self.start
        refusals: list[str] = []
        for step in scenario.steps:
            now += step.after
            state = await readmodel.load_city_state(self.store, scenario.city_id)
            try:
                events = decide(state, step.command_at(now), now=now)
            except DomainError as e:
                refusals.append(str(e))
                continue
            actor = eventstore.Actor(step.actor.role, step.actor.id)
            batch = [
                NewEvent.from_domain(e, event_id=uuid.uuid4(), occurred_at=now, actor=actor) for e in events
            ]
            await self.store.append(stream, state.version, batch)
        return Outcome(
            await recorded_stream(self.store, scenario.city_id),
            refusals,
            await projected_summary(self.store, scenario.city_id),
        )


async def recorded_stream(store: EventStore, city_id: str) -> list[Recorded]:
    """The city's stream as the store holds it: each event's type and actor, in order."""
    return [
        Recorded(e.type, Actor(role=e.actor.role, id=e.actor.id))
        for e in await store.read_stream(readmodel.city_stream(city_id))
    ]


async def projected_summary(store: EventStore, city_id: str) -> CitySummary | None:
    """The city's city_status row, without the time it was last updated."""
    status = await readmodel.city_summary(store, city_id)
    return None if status is None else CitySummary.model_validate(status.model_dump(exclude={"updated_at"}))
