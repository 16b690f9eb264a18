"""Every scenario through the HTTP API, a request per step under its actor's token: the same
events, in the same order, naming the same actors as the pure decider's, and the city's status
over HTTP the same as the decider's summary (modulo valid_until: see tests/scenarios.py)."""

from __future__ import annotations

import pytest

from tests.integration.entrypoints.http.conftest import Api
from tests.integration.entrypoints.http.scenario_runner import HttpRunner
from tests.scenarios import SCENARIOS, Scenario, assert_meets
from tests.unit.domain.scenario_runner import run_through_decider


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
async def test_the_api_records_what_the_decider_does(scenario: Scenario, api: Api) -> None:
    outcome = await HttpRunner(api)(scenario)

    assert_meets(outcome, scenario, reference=await run_through_decider(scenario))
