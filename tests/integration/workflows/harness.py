"""A city workflow on the time-skipping server, with the real activities on a real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities import build_activities
from app.worker import build_worker
from domain import Actor, CityState, ProgrammePolicy, decide, fold
from domain import commands as cmd
from domain.standard import get_standard
from eventstore import EventStore
from readmodel import city_stream
from runtime.settings import Settings
from tests.polling import eventually
from tests.scenarios import COMMITTEE, OPERATOR, TEST_COMMAND_KEY, Step, open_round, signed
from workflows import WORKFLOWS, search_attributes
from workflows.city import (
    CityCertificationWorkflow,
    CommandRequest,
    CommandResult,
    GiveCommand,
)
from workflows.contracts import configure_command_key, new_run_input

CRITERIA = list(get_standard("wwc-2022").in_earning_order())  # the level requirements first
DOCS = [{"title": "Evidence pack", "url": "https://example.org/pack.pdf"}]
REVIEWER_FROM_ELSEWHERE = {"reviewer_id": "rev-ana", "reviewer_home_city": "riverton"}


@dataclass
class CityDriver:
    """Gives one city's workflow commands the way the API will: a `give` Update per command.

    `do("SubmitEvidence", CITY_STAFF, items=[...])` builds the typed command from its kind and
    fields here, in the caller, as any client of `give` does: a malformed one never leaves.
    """

    env: WorkflowEnvironment
    store: EventStore
    city_id: str
    handle: WorkflowHandle[Any, Any]
    first_run_id: str

    async def do(self, kind: str, actor: Actor = OPERATOR, /, **fields: Any) -> CommandResult:
        if kind == "ApplyForCertification" and "round" not in fields:
            # The round as the command service reads it from the programme's records: open.
            fields["round"] = open_round(fields["cohort"]).model_dump(mode="json")
        command = GiveCommand.model_validate({"command": {"kind": kind, **fields}, "actor": actor}).command
        # A fresh request id per command, as the command service gives (its events' ids derive from it).
        request = signed(self.city_id, command, actor, request_id=uuid.uuid4().hex)
        return await self.handle.execute_update(CityCertificationWorkflow.give, request)

    async def do_by_name(self, name: str, actor: Actor = OPERATOR, /, **payload: Any) -> CommandResult:
        """The same through the older `command` Update: a name and an untyped payload."""
        return await self.handle.execute_update(
            CityCertificationWorkflow.command, CommandRequest(name=name, payload=payload, actor=actor)
        )

    async def refused(self, kind: str, actor: Actor = OPERATOR, /, **fields: Any) -> ApplicationError:
        """The workflow's refusal of a `give`: its type (what the API maps to 409 or 422) and message."""
        return await refusal(self.do(kind, actor, **fields))

    async def walk(self, steps: Sequence[Step]) -> list[str]:
        """Give the steps (tests/scenarios.py) in order, each after its time has passed on the
        server's clock; a timer's step only lets the time pass and waits for the workflow's timer
        to record its events. The messages of the refused steps."""
        refusals: list[str] = []
        for step in steps:
            if step.is_timer:
                before = await self.state()
                await self.env.sleep(step.after)
                await self.recorded_past(before.version)
                continue
            if step.after:
                await self.env.sleep(step.after)
            command = step.command_at(await self.env.get_current_time())
            request = signed(self.city_id, command, step.actor)
            try:
                await self.handle.execute_update(CityCertificationWorkflow.give, request)
            except WorkflowUpdateFailedError as e:
                assert isinstance(e.cause, ApplicationError), e.cause
                refusals.append(e.cause.message)
        return refusals

    async def recorded_past(self, version: int) -> None:
        """Wait for the workflow to record past `version` (a timer's events come by an activity)."""
        await eventually(self.state, lambda state: state.version > version)

    async def state(self) -> CityState:
        return await self.handle.query(CityCertificationWorkflow.current_state)

    async def stored_types(self) -> list[str]:
        return [e.type for e in await self.store.read_stream(city_stream(self.city_id))]


@asynccontextmanager
async def running_worker(
    env: WorkflowEnvironment, store: EventStore, activities: Sequence[Callable[..., Any]] | None = None
) -> AsyncIterator[str]:
    """A worker on its own task queue (one per test, as temporalio's samples do)."""
    configure_command_key(TEST_COMMAND_KEY)  # what app.worker.run_worker does with the setting
    task_queue = f"test-{uuid.uuid4()}"
    worker = build_worker(
        env.client,
        Settings(),
        workflows=WORKFLOWS,
        activities=activities if activities is not None else build_activities(store),
        task_queue=task_queue,
    )
    async with worker:
        yield task_queue


async def start_city(
    env: WorkflowEnvironment,
    store: EventStore,
    task_queue: str,
    city_id: str,
    *,
    search_attributes: TypedSearchAttributes | None = None,
) -> CityDriver:
    """The city's workflow started, as citycert starts one; with `search_attributes` (see
    `registration_attributes`) as the command service starts a registration's run."""
    first = await env.client.start_workflow(
        CityCertificationWorkflow.run,
        new_run_input(city_id),  # as citycert starts one
        id=f"city-{city_id}",
        task_queue=task_queue,
        search_attributes=search_attributes,
    )
    # No run id: commands follow the city into each new run after continue-as-new.
    handle = env.client.get_workflow_handle(f"city-{city_id}")
    return CityDriver(env, store, city_id, handle, first_run_id=first.first_execution_run_id or "")


def registration_attributes(registration: cmd.RegisterCity) -> TypedSearchAttributes:
    """The search attributes the command service starts a registration's run with: those of the
    state the registration leaves the city in (app/commands.py)."""
    initial = CityState.initial(registration.city_id)
    events = decide(initial, registration, now=datetime.now(UTC), policy=ProgrammePolicy())
    return search_attributes.at_start(fold(initial, events))


async def refusal(update: Awaitable[CommandResult]) -> ApplicationError:
    try:
        await update
    except WorkflowUpdateFailedError as e:
        assert isinstance(e.cause, ApplicationError), e.cause
        return e.cause
    raise AssertionError("the command was accepted")


async def run_history_lengths(client: Client, workflow_id: str, first_run_id: str) -> list[int]:
    """Events in each run's history, oldest run first, following the continue-as-new chain."""
    run_id: str | None = first_run_id
    lengths: list[int] = []
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        last = history.events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
    return lengths


async def import_certification(
    city: CityDriver, level: str, standard_version: str, *, held_days: int, days_left: int
) -> None:
    """Bring in a certification earned `held_days` ago that expires in `days_left` days (real time:
    the time-skipping and dev servers both start from now): an operator proposes it, a committee
    member countersigns it."""
    now = datetime.now(UTC)
    await city.do(
        "ProposeImport",
        OPERATOR,
        level=level,
        cohort="2024",
        standard_version=standard_version,
        valid_from=(now - timedelta(days=held_days)).isoformat(),
        valid_until=(now + timedelta(days=days_left)).isoformat(),
        proposed_by=OPERATOR.id,
    )
    await city.do("CountersignImport", COMMITTEE, countersigned_by=COMMITTEE.id)
