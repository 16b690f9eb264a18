"""What a command costs in a city's history: the commands its workflow task sends besides the
recording itself (bench/lifecycle.py measures their price). A run citycert starts asks no patch
(each first ask records a marker and upserts TemporalChangeVersion), upserts our search attributes
at most once per recorded command and only when one of them changed, and starts a timer only when
the city's next deadline moved."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain import CityState, Level, ProgrammePolicy, fold
from domain import events as ev
from domain.deadlines import next_deadline
from eventstore import EventStore
from readmodel import city_stream
from tests.integration.workflows.harness import running_worker, start_city
from tests.scenarios import SILVER_SCORE, apply, certify, register
from tests.temporal_env import time_skipping_environment
from workflows import search_attributes

OURS = {key.name for key in search_attributes.ALL}


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_environment() as environment:
        yield environment


@dataclass
class WorkflowTask:
    """The commands one workflow task sent, as its history recorded them."""

    started: datetime  # the task's time: workflow.now() while it ran
    updates: int = 0  # Updates accepted
    recorded: int = 0  # commands recorded (a local activity's marker each)
    upserts: list[set[str]] = field(default_factory=list)  # the keys of each upsert
    patch_markers: int = 0
    timers: list[datetime] = field(default_factory=list)  # when each timer started here fires


def workflow_tasks(events: list[HistoryEvent]) -> list[WorkflowTask]:
    tasks: list[WorkflowTask] = []
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            tasks.append(WorkflowTask(started=e.event_time.ToDatetime()))
        elif not tasks:
            continue
        elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            tasks[-1].updates += 1
        elif e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            name = e.marker_recorded_event_attributes.marker_name
            tasks[-1].recorded += name == "core_local_activity"
            tasks[-1].patch_markers += name == "core_patch"
        elif e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            tasks[-1].upserts.append(set(fields))
        elif e.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            wait = e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
            tasks[-1].timers.append(tasks[-1].started + wait)
    return tasks


async def runs(client: Client, workflow_id: str, first_run_id: str) -> list[list[HistoryEvent]]:
    """Every run's history, oldest first, following continue-as-new."""
    histories: list[list[HistoryEvent]] = []
    run_id: str | None = first_run_id
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        histories.append(list(history.events))
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
    return histories


async def test_a_cycle_upserts_at_most_once_per_command_and_keeps_its_timers(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    # Given a city walked through a whole cycle, as citycert starts its workflow
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "bayview")
        steps = [register("bayview"), *certify(apply("2026-fall"), SILVER_SCORE, Level.SILVER)]
        assert await city.walk(steps) == []
        histories = await runs(env.client, city.handle.id, city.first_run_id)

    # Then the first run (the cycle) and the next (certified, waiting) ask no patch, and each
    # workflow task upserts at most once per command it recorded, only our own attributes
    assert len(histories) == 2, "the award continues the run as new"
    tasks = [task for events in histories for task in workflow_tasks(events)]
    assert sum(t.updates for t in tasks) == len(steps) - 1, "every step but the award's timer"
    assert sum(t.patch_markers for t in tasks) == 0
    for task in tasks:
        assert len(task.upserts) <= task.recorded, task
        assert all(keys <= OURS for keys in task.upserts), task
    # The attributes moved with the phase: registered, applied, submitted... so they were sent
    assert sum(len(t.upserts) for t in tasks) >= 4

    # And the first run started a timer only when the city's next deadline moved: as many as the
    # deadline, folded command by command from the store, took new values before the award (the
    # run ends with it; the next run waits for the certification's deadlines)
    first_run = [when for task in workflow_tasks(histories[0]) for when in task.timers]
    moves = await deadline_moves(store, "bayview")
    assert len(first_run) == moves, (moves, first_run)
    assert len(first_run) < len(steps), "some commands leave the deadline where it was"


async def deadline_moves(store: EventStore, city_id: str) -> int:
    """How often the city's next deadline took a new value (not none) after a command, up to the
    last: its stored events grouped by when they occurred (a command's share its time), folded
    group by group."""
    events = await store.read_stream(city_stream(city_id))
    state, moves, deadline = CityState.initial(city_id), 0, None
    commands = [list(group) for _, group in itertools.groupby(events, key=lambda e: e.occurred_at)]
    for group in commands[:-1]:  # not the award's: its run ends there
        state = fold(state, [ev.EVENT_TYPES[e.type].model_validate(e.data) for e in group])
        now = next_deadline(state, ProgrammePolicy())  # as citycert runs: due-date warnings on
        moves += now is not None and now != deadline
        deadline = now
    return moves


async def test_the_run_after_the_award_sends_no_attribute_again(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    # Given a certified city, its run continued as new at the award
    async with running_worker(env, store) as queue:
        city = await start_city(env, store, queue, "eastport")
        assert (
            await city.walk([register("eastport"), *certify(apply("2026-fall"), SILVER_SCORE, Level.SILVER)])
            == []
        )
        histories = await runs(env.client, city.handle.id, city.first_run_id)
        described = await city.handle.describe()

    # Then the new run upserts nothing (Temporal carried the attributes over), and they are current
    second = workflow_tasks(histories[1])
    assert [t.upserts for t in second if t.upserts] == []
    attrs = described.typed_search_attributes
    assert attrs.get(search_attributes.CERT_PHASE) == "certified"
    assert attrs.get(search_attributes.CERT_LEVEL) == "silver"
    assert attrs.get(search_attributes.CERT_VALID_UNTIL) is not None
