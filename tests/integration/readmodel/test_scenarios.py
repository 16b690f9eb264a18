"""Every scenario through the real event store and the city projector: the same events, in the
same order, naming the same actors as the pure decider's, and the same city_status row as its
summary (modulo valid_until: see tests/scenarios.py)."""

from __future__ import annotations

import pytest

from eventstore import EventStore
from tests.integration.readmodel.scenario_runner import StoreRunner
from tests.scenarios import SCENARIOS, Scenario, assert_meets
from tests.unit.domain.scenario_runner import run_through_decider


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
async def test_the_store_records_what_the_decider_does(scenario: Scenario, store: EventStore) -> None:
    outcome = await StoreRunner(store)(scenario)

    assert_meets(outcome, scenario, reference=await run_through_decider(scenario))
    report = await store.verify()
    assert report.ok, report.lines()
