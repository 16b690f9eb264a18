"""The scenarios through the city workflow on the time-skipping server, with the real activities:
every person's step a `give` Update, every wait `env.sleep`, every timer step the workflow's own
timer (CityDriver.walk only lets the time pass and waits for its events)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.testing import WorkflowEnvironment

from eventstore import EventStore
from tests.integration.readmodel.scenario_runner import recorded_stream
from tests.integration.workflows.harness import start_city
from tests.scenarios import Outcome, Scenario


@dataclass(frozen=True)
class WorkflowRunner:
    env: WorkflowEnvironment
    store: EventStore
    task_queue: str

    async def __call__(self, scenario: Scenario) -> Outcome:
        city = await start_city(self.env, self.store, self.task_queue, scenario.city_id)
        refusals = await city.walk(scenario.steps)
        state = await city.state()
        return Outcome(
            await recorded_stream(self.store, scenario.city_id),
            refusals,
            state.summary() if state.version else None,
        )
