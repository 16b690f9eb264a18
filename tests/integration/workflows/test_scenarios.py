"""Every scenario through the city workflow's `give` Update on the time-skipping server, with the
real activities and store: the same events, in the same order, naming the same actors as the pure
decider's, and the workflow's own summary the same as the decider's (modulo valid_until: see
tests/scenarios.py). Timer steps are the workflow's timers firing while `env.sleep` passes time."""

from __future__ import annotations

import pytest

from domain import CityState
from eventstore import EventStore
from readmodel import load_city_state
from tests.integration.readmodel.scenario_runner import projected_summary
from tests.integration.workflows.harness import running_worker
from tests.integration.workflows.scenario_runner import WorkflowRunner
from tests.scenarios import SCENARIOS, Scenario, assert_meets
from tests.temporal_env import time_skipping_environment
from tests.unit.domain.scenario_runner import run_through_decider
from workflows.city import CityCertificationWorkflow


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
async def test_the_workflow_records_what_the_decider_does(scenario: Scenario, store: EventStore) -> None:
    # One server per scenario: the time-skipping clock is global to a server.
    async with time_skipping_environment() as env, running_worker(env, store) as queue:
        outcome = await WorkflowRunner(env, store, queue)(scenario)
        folded: CityState = await env.client.get_workflow_handle(f"city-{scenario.city_id}").query(
            CityCertificationWorkflow.current_state
        )

    assert_meets(outcome, scenario, reference=await run_through_decider(scenario))
    # What the workflow folded is what the store holds, and what its projection shows.
    assert folded == await load_city_state(store, scenario.city_id)
    assert outcome.summary == await projected_summary(store, scenario.city_id)
