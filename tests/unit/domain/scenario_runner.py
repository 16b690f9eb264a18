"""The scenarios' pure runner: `decide` each step's command at the runner's clock, fold its events.

The reference for every other layer: nothing but the domain between the scenario and its outcome.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain import CityState, DomainError, decide, fold
from tests.scenarios import Outcome, Recorded, Scenario

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def run_through_decider(scenario: Scenario) -> Outcome:
    state = CityState.initial(scenario.city_id)
    now = T0
    recorded: list[Recorded] = []
    refusals: list[str] = []
    for step in scenario.steps:
        now += step.after
        try:
            events = decide(state, step.command_at(now), now=now)
        except DomainError as e:
            refusals.append(str(e))
            continue
        recorded += [Recorded(e.event_type(), step.actor) for e in events]
        state = fold(state, events)
    return Outcome(recorded, refusals, state.summary() if state.version else None)
