"""No flood of commands can freeze a city: its run hands over to a fresh one long before Temporal's
limits (2,000 Updates, 50 MB per run), and callers going through the command service never notice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from app.commands import CommandService
from domain import ProgrammePolicy
from domain import commands as cmd
from eventstore import EventStore
from readmodel import city_stream, load_city_state
from tests.integration.workflows.harness import run_history_lengths, running_worker
from tests.scenarios import CITY_STAFF, CRITERIA, OPERATOR, TEST_COMMAND_KEY
from tests.temporal_env import time_skipping_environment
from workflows.city import CityCertificationWorkflow, CityWorkflowInput
from workflows.contracts import city_workflow_id


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_environment() as environment:
        yield environment


async def test_a_city_flooded_with_snapshots_moves_to_fresh_runs_and_loses_nothing(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        # Given a city whose runs hold three commands each (the real limit is 500)
        first = await env.client.start_workflow(
            CityCertificationWorkflow.run,
            CityWorkflowInput(city_id="floodham", updates_per_run=3),
            id=city_workflow_id("floodham"),
            task_queue=queue,
        )
        service = CommandService(
            store,
            env.client,
            policy=ProgrammePolicy(),
            task_queue=queue,
            command_timeout=30,
            command_key=TEST_COMMAND_KEY,
        )
        register = cmd.RegisterCity(city_id="floodham", name="Floodham", country="US", population=90_000)
        await service.give("floodham", register, OPERATOR)

        # When it takes ten snapshots in a row
        answers = dict.fromkeys(CRITERIA[:10], "met")
        for _ in range(10):
            await service.give(
                "floodham", cmd.TakeDataSnapshot(standard_version="wwc-2022", answers=answers), CITY_STAFF
            )

        # Then every one is recorded once, in order, across several runs that carried the state
        stored = [e.type for e in await store.read_stream(city_stream("floodham"))]
        assert stored == ["CityRegistered"] + ["DataSnapshotTaken"] * 10
        runs = await run_history_lengths(
            env.client, city_workflow_id("floodham"), first.first_execution_run_id or ""
        )
        assert len(runs) >= 4, runs  # 11 commands, 3 per run
        held = await env.client.get_workflow_handle(city_workflow_id("floodham")).query(
            CityCertificationWorkflow.current_state
        )
        assert held == await load_city_state(store, "floodham")
