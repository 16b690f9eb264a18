"""Which city workflows are not running when the store says they should be.

A city's workflow runs for as long as the city takes part: a cycle's end continues it as new, and
only a withdrawal ends it for good (workflows/city.py). So every city of the store that has not
withdrawn should have a running `city-<id>`; one terminated, failed, timed out, completed or gone
is a finding, which `CommandService.restart` repairs from the folded stream.

Thousands of cities cost one visibility listing of the running city workflows, then one describe
per city that listing misses: visibility is eventually consistent (a run that has just continued
as new may be missing from it for a moment), a describe is not, so it has the last word.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from app.commands import workflow_status_name
from domain import Phase
from eventstore import EventStore
from readmodel import list_cities, load_city_state
from workflows.contracts import city_of_workflow, city_workflow_id

RUNNING_CITY_WORKFLOWS = "WorkflowType = 'CityCertification' AND ExecutionStatus = 'Running'"
PARALLEL_DESCRIBES = 8


@dataclass(frozen=True, slots=True)
class StoppedWorkflow:
    """A city whose workflow should run and does not: how its last run ended, or `missing`."""

    city_id: str
    phase: Phase
    workflow_id: str
    status: str  # terminated, failed, timed_out, completed, canceled, or missing
    run_id: str | None  # the last run's, None when there is none


async def running_city_workflows(client: Client) -> set[str]:
    """The ids of the city workflows Temporal's visibility lists as running."""
    return {e.id async for e in client.list_workflows(RUNNING_CITY_WORKFLOWS) if city_of_workflow(e.id)}


async def stopped_workflows(
    store: EventStore, client: Client, *, running: Collection[str] | None = None
) -> list[StoppedWorkflow]:
    """Every city of the store, not withdrawn, whose workflow is not running; by city id.

    `running` is the ids visibility lists as running, when the caller has already listed them.
    """
    listed = set(running) if running is not None else await running_city_workflows(client)
    expected = [c for c in await list_cities(store) if c.phase is not Phase.WITHDRAWN]
    limit = asyncio.Semaphore(PARALLEL_DESCRIBES)

    async def check(city_id: str, phase: Phase) -> StoppedWorkflow | None:
        workflow_id = city_workflow_id(city_id)
        async with limit:
            try:
                described = await client.get_workflow_handle(workflow_id).describe()
            except RPCError as e:
                if e.status != RPCStatusCode.NOT_FOUND:
                    raise
                return StoppedWorkflow(city_id, phase, workflow_id, workflow_status_name(None), None)
            if described.status is WorkflowExecutionStatus.RUNNING:
                return None  # visibility had not caught up
            # The city may have withdrawn since the listing: its run then ended as it should.
            now = (await load_city_state(store, city_id)).phase
            if now is Phase.WITHDRAWN:
                return None
            return StoppedWorkflow(
                city_id, now, workflow_id, workflow_status_name(described.status), described.run_id
            )

    found = await asyncio.gather(
        *(check(c.city_id, c.phase) for c in expected if city_workflow_id(c.city_id) not in listed)
    )
    return [s for s in found if s is not None]
