"""The scenarios through the city workflow on the time-skipping server, with the real activities:
every person's step a `give` Update, every wait `env.sleep`, every timer step the workflow's own
timer (the runner only lets the time pass and waits for its events)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from eventstore import EventStore
from tests.integration.readmodel.scenario_runner import recorded_stream
from tests.integration.workflows.harness import CityDriver, start_city
from tests.polling import eventually
from tests.scenarios import Outcome, Scenario, Step
from workflows.city import CityCertificationWorkflow, GiveCommand


@dataclass(frozen=True)
class WorkflowRunner:
    env: WorkflowEnvironment
    store: EventStore
    task_queue: str

    async def __call__(self, scenario: Scenario) -> Outcome:
        city = await start_city(self.env, self.store, self.task_queue, scenario.city_id)
        refusals: list[str] = []
        for step in scenario.steps:
            if step.is_timer:
                before = await city.state()
                await self.env.sleep(step.after)
                await eventually(city.state, lambda state, was=before.version: state.version > was)
                continue
            if step.after:
                await self.env.sleep(step.after)
            refusal = await self._give(city, step)
            if refusal is not None:
                refusals.append(refusal)
        state = await city.state()
        return Outcome(
            await recorded_stream(self.store, scenario.city_id),
            refusals,
            state.summary() if state.version else None,
        )

    async def _give(self, city: CityDriver, step: Step) -> str | None:
        """Give the step's command; the refusal's message if the workflow refuses it."""
        command = step.command_at(await self.env.get_current_time())
        request = GiveCommand.model_validate({"command": command, "actor": step.actor})
        try:
            await city.handle.execute_update(CityCertificationWorkflow.give, request)
        except WorkflowUpdateFailedError as e:
            assert isinstance(e.cause, ApplicationError), e.cause
            return e.cause.message
        return None
