"""The floor of the lifecycle benchmark (bench/lifecycle.py): a bare workflow with a city's shape.

Per city and certification cycle, FloorWorkflow costs Temporal and PostgreSQL what
CityCertificationWorkflow does, minus citycert's own code:

- one `command` Update per city command (the driver sends the same ones, with the same payloads),
  each running one local activity under a lock, as ours records each command's events;
- that activity writes as many rows as our command records events (the driver tells it how many)
  with ONE INSERT statement (arrays unnested) into `floor_events`, a plain table with the columns,
  keys and log index of the store's `events` table: no validation, no hash chain, no concurrency
  check, no projections, no trigger;
- after the last Update, a timer as long as the appeal window, one more activity (the award's row),
  then continue-as-new; the new run waits on a long timer, as a certified city does.

There is no decider, no fold, no Update validator, no search attribute and no logging here. The
module imports only the standard library, temporalio and bench.floor_contracts, so the allow-listed
sandbox (workflows/sandbox.py) runs it as it runs ours; its models live in bench/floor_contracts.py,
which the floor's worker passes through the sandbox (FLOOR_PASSTHROUGH) as ours passes
workflows.contracts and activities.names through: loaded once, not re-imported for every run; and
this module too, as ours passes workflows.city through. The
activity reaches PostgreSQL through the pool it is given, never by importing a driver.

NoopWorkflow is the physical floor: a workflow that does nothing but take as many `command` Updates
as a city's cycle has (each returns at once, no activity), then ends: what Temporal alone costs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy

from bench.floor_contracts import (
    FLOOR_INSERT,
    FloorInput,
    FloorInsertInput,
    FloorInsertResult,
    FloorRequest,
    FloorResult,
    FloorRow,
    NoopInput,
)

if TYPE_CHECKING:
    import asyncpg

# The floor's worker passes its models through the sandbox (with workflows/sandbox.py's list), as
# ours passes its contracts through, and this module itself, as ours passes workflows.city through
# (it holds no state a run could change either): re-importing it for every run would cost the floor
# memory and CPU that ours no longer pays.
FLOOR_PASSTHROUGH = ("bench.floor_contracts", "bench.floor_workflow")

# The same retry policy and timeout as ours (workflows/contracts.py RECORD_RETRY, workflows/city.py).
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
# How long the run after continue-as-new waits: the validity of a certification.
IDLE = timedelta(days=3 * 365)

FLOOR_SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_events (
    position     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id     uuid NOT NULL UNIQUE,
    stream_id    text NOT NULL,
    version      bigint NOT NULL,
    type         text NOT NULL,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    actor_role   text NOT NULL,
    actor_id     text NOT NULL,
    workflow_id  text,
    run_id       text,
    data         jsonb NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS floor_events_log_order ON floor_events (txid, position);
"""

_INSERT = """
INSERT INTO floor_events (event_id, stream_id, version, type, occurred_at, actor_role, actor_id,
                          workflow_id, run_id, data)
SELECT u.event_id, $1, $2 + u.n, u.type, $3, $4, $5, $6, $7, u.data::jsonb
FROM unnest($8::uuid[], $9::text[], $10::text[]) WITH ORDINALITY AS u(event_id, type, data, n)
ON CONFLICT (event_id) DO NOTHING
"""


class FloorActivities:
    """The floor's one activity, bound to an asyncpg pool (the driver creates `floor_events`)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @activity.defn(name=FLOOR_INSERT)
    async def insert(self, input: FloorInsertInput) -> FloorInsertResult:
        rows = input.rows
        await self.pool.execute(
            _INSERT,
            input.stream_id,
            input.expected_version,
            input.occurred_at,
            input.actor_role,
            input.actor_id,
            input.workflow_id,
            input.run_id,
            [r.event_id for r in rows],
            [r.type for r in rows],
            [json.dumps(r.data) for r in rows],
        )
        return FloorInsertResult(version=input.expected_version + len(rows))

    def all(self) -> list[Callable[..., Any]]:
        return [self.insert]


@workflow.defn(name="BenchFloor")
class FloorWorkflow:
    @workflow.init
    def __init__(self, input: FloorInput) -> None:
        self.city_id = input.city_id
        self.version = input.version
        self.lock = asyncio.Lock()
        self.updates = 0

    @workflow.run
    async def run(self, input: FloorInput) -> int:
        if input.cycle_over:
            await workflow.wait_condition(lambda: False, timeout=IDLE)
            return self.version
        await workflow.wait_condition(lambda: self.updates >= input.updates)
        await workflow.sleep(input.window)
        async with self.lock:
            await self._insert("Timer", input.award_rows, "timer", "workflow")
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            FloorInput(
                city_id=self.city_id,
                updates=input.updates,
                window=input.window,
                award_rows=input.award_rows,
                version=self.version,
                cycle_over=True,
            )
        )

    @workflow.update
    async def command(self, request: FloorRequest) -> FloorResult:
        async with self.lock:
            rows = await self._insert(request.name, request.rows, request.actor_role, request.actor_id)
        self.updates += 1
        return FloorResult(rows=rows, version=self.version)

    async def _insert(self, name: str, count: int, role: str, actor: str) -> list[FloorRow]:
        info = workflow.info()
        rows = [
            FloorRow(
                event_id=workflow.uuid4(),
                type=name,
                data={"city_id": self.city_id, "command": name, "index": i},
            )
            for i in range(count)
        ]
        # A local activity, as ours records (workflows/city.py RECORD_LOCALLY): the same shape, one
        # workflow task per command.
        result = await workflow.execute_local_activity(
            FLOOR_INSERT,
            FloorInsertInput(
                stream_id=f"city-{self.city_id}",
                expected_version=self.version,
                occurred_at=workflow.now(),
                actor_role=role,
                actor_id=actor,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                rows=rows,
            ),
            result_type=FloorInsertResult,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RETRY,
        )
        self.version = result.version
        return rows


@workflow.defn(name="BenchNoop")
class NoopWorkflow:
    """The physical floor: `updates` Updates that do nothing, then the end."""

    @workflow.init
    def __init__(self, input: NoopInput) -> None:
        self.updates = 0

    @workflow.run
    async def run(self, input: NoopInput) -> int:
        await workflow.wait_condition(lambda: self.updates >= input.updates)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.updates

    @workflow.update
    async def command(self, request: FloorRequest) -> None:
        self.updates += 1
