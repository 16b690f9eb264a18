"""The command service against a real worker and store: what a caller is told when the workflow's
answer and the store's truth part ways, and when a city gives commands faster than it may."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.names import RECORD_EVENTS, RecordEventsInput, RecordEventsResult
from activities.recording import CityActivities
from app import errors
from app.commands import CommandService
from app.rounds import create_round
from domain import ProgrammePolicy
from domain import commands as cmd
from eventstore import EventStore
from readmodel import city_stream
from tests.integration.workflows.harness import running_worker
from tests.polling import eventually
from tests.scenarios import CITY_STAFF, CRITERIA, OPERATOR, STANDARD, TEST_COMMAND_KEY, round_record
from tests.temporal_env import time_skipping_environment
from workflows import search_attributes
from workflows.city import CityCertificationWorkflow, CityWorkflowInput
from workflows.contracts import city_workflow_id

REGISTER = cmd.RegisterCity(city_id="lakeside", name="Lakeside", country="US", population=182_000)
SNAPSHOT = cmd.TakeDataSnapshot(standard_version="wwc-2022", answers=dict.fromkeys(CRITERIA[:5], "met"))


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_environment() as environment:
        yield environment


def service(
    env: WorkflowEnvironment, store: EventStore, queue: str, policy: ProgrammePolicy
) -> CommandService:
    return CommandService(
        store, env.client, policy=policy, task_queue=queue, command_timeout=30, command_key=TEST_COMMAND_KEY
    )


async def started(env: WorkflowEnvironment, queue: str, policy: ProgrammePolicy) -> None:
    await env.client.start_workflow(
        CityCertificationWorkflow.run,
        CityWorkflowInput(city_id="lakeside", policy=policy),
        id=city_workflow_id("lakeside"),
        task_queue=queue,
    )


async def test_a_command_recorded_before_its_update_failed_is_answered_as_recorded(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    # Given a worker whose recording commits the events and then fails for good (as when the
    # workflow ends between the activity's commit and its answer)
    real = CityActivities(store)

    @activity.defn(name=RECORD_EVENTS)
    async def record_then_fail(input: RecordEventsInput) -> RecordEventsResult:
        await real.record_events(input)
        raise ApplicationError("the worker lost its answer", non_retryable=True)

    policy = ProgrammePolicy()
    async with running_worker(env, store, activities=[record_then_fail, real.find_due_reminders]) as queue:
        await started(env, queue, policy)
        # When a registration is given through the command service
        outcome = await service(env, store, queue, policy).give("lakeside", REGISTER, OPERATOR)
    # Then the caller is told what the store holds, not "not recorded"
    stored = await store.read_stream(city_stream("lakeside"))
    assert [e.type for e in outcome.events] == ["CityRegistered"]
    assert [e.event_id for e in outcome.events] == [e.event_id for e in stored]
    assert outcome.summary.name == "Lakeside"


async def test_a_command_that_failed_before_recording_is_still_not_recorded(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    real = CityActivities(store)

    @activity.defn(name=RECORD_EVENTS)
    async def fail_before(input: RecordEventsInput) -> RecordEventsResult:
        raise ApplicationError("the database refused", non_retryable=True)

    policy = ProgrammePolicy()
    async with running_worker(env, store, activities=[fail_before, real.find_due_reminders]) as queue:
        await started(env, queue, policy)
        with pytest.raises(errors.NotRecorded, match="the command was not recorded"):
            await service(env, store, queue, policy).give("lakeside", REGISTER, OPERATOR)
    assert await store.read_stream(city_stream("lakeside")) == []


async def test_a_flood_of_snapshots_is_refused_past_the_daily_number_saying_when_to_retry(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    policy = ProgrammePolicy(snapshots_per_day=3)
    async with running_worker(env, store) as queue:
        await started(env, queue, policy)
        commands = service(env, store, queue, policy)
        await commands.give("lakeside", REGISTER, OPERATOR)
        # Given a city that took as many snapshots as it may in a day
        taken = [await commands.give("lakeside", SNAPSHOT, CITY_STAFF) for _ in range(3)]
        first_taken_at = taken[0].events[0].occurred_at
        # When it takes one more, then it is refused with when the next one is allowed
        with pytest.raises(errors.TooFrequent, match="3 data snapshots in the last 24 hours") as refused:
            await commands.give("lakeside", SNAPSHOT, CITY_STAFF)
        assert refused.value.retry_at == first_taken_at + timedelta(days=1)
        # and nothing more was recorded
        stored = [e.type for e in await store.read_stream(city_stream("lakeside"))]
        assert stored == ["CityRegistered"] + ["DataSnapshotTaken"] * 3


async def test_a_registration_starts_its_workflow_with_its_search_attributes_and_upserts_none(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    # Given a worker, the command service and a round open for applications
    policy = ProgrammePolicy()
    await create_round(store, round_record("2026-fall"), OPERATOR)
    async with running_worker(env, store) as queue:
        commands = service(env, store, queue, policy)
        # When a city is registered through the service (its workflow started with the command)
        await commands.register(REGISTER, OPERATOR)
        handle = env.client.get_workflow_handle(city_workflow_id("lakeside"))
        described = await handle.describe()
        history = await handle.fetch_history()
        # and then applies, which moves its phase
        await commands.give(
            "lakeside", cmd.ApplyForCertification(cohort="2026-fall", standard_version=STANDARD), CITY_STAFF
        )
        applied = await handle.describe()
        later = await handle.fetch_history()

    # Then operators see the registered phase from the start, and recording the registration sent
    # no upsert (the run was started with what it would have sent)
    assert described.typed_search_attributes.get(search_attributes.CERT_PHASE) == "registered"
    assert described.typed_search_attributes.get(search_attributes.CERT_COHORT) is None
    assert upserts(history.events) == []
    # And the application upserted what it changed, once
    assert upserts(later.events) == [{search_attributes.CERT_PHASE.name, search_attributes.CERT_COHORT.name}]
    assert applied.typed_search_attributes.get(search_attributes.CERT_PHASE) == "evidence"


def task_completed(event: HistoryEvent) -> bool:
    return event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED


def upserts(events: Sequence[HistoryEvent]) -> list[set[str]]:
    """The keys of each search-attribute upsert in a history, in order."""
    return [
        set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]


async def test_a_restarted_run_starts_with_the_city_s_search_attributes_and_upserts_none(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    # Given a city that applied, whose workflow was then terminated
    policy = ProgrammePolicy()
    await create_round(store, round_record("2026-fall"), OPERATOR)
    async with running_worker(env, store) as queue:
        commands = service(env, store, queue, policy)
        await commands.register(REGISTER, OPERATOR)
        await commands.give(
            "lakeside", cmd.ApplyForCertification(cohort="2026-fall", standard_version=STANDARD), CITY_STAFF
        )
        handle = env.client.get_workflow_handle(city_workflow_id("lakeside"))
        await handle.terminate("lost")
        # When an operator restarts it
        restarted = await commands.restart("lakeside", OPERATOR)
        run = env.client.get_workflow_handle(city_workflow_id("lakeside"), run_id=restarted.run_id)
        described = await run.describe()
        # (its first workflow task done: where it would have upserted)
        history = await eventually(run.fetch_history, lambda h: any(map(task_completed, h.events)))

    # Then its new run shows where the city stands from its start, and upserted nothing to get there
    assert described.typed_search_attributes.get(search_attributes.CERT_PHASE) == "evidence"
    assert described.typed_search_attributes.get(search_attributes.CERT_COHORT) == "2026-fall"
    assert upserts(history.events) == []
