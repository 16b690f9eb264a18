"""Every scenario through the pure decider: the events it lists, in order, and the city where it
says; the other layers' contract tests compare their summaries with these."""

from __future__ import annotations

import pytest

from tests.scenarios import SCENARIOS, Scenario, assert_meets
from tests.unit.domain.scenario_runner import run_through_decider


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
async def test_the_decider_records_what_the_scenario_says(scenario: Scenario) -> None:
    assert_meets(await run_through_decider(scenario), scenario)


async def test_the_contract_catches_an_outcome_that_differs_from_the_scenario() -> None:
    silver = SCENARIOS[0]
    outcome = await run_through_decider(silver)
    without_the_award = Scenario(silver.name, silver.city_id, silver.steps[:-1], silver.phase, silver.level)

    with pytest.raises(AssertionError):
        assert_meets(outcome, without_the_award)
    with pytest.raises(AssertionError):
        assert_meets(await run_through_decider(without_the_award), silver, reference=outcome)
