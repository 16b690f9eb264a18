"""Exactly once, under faults (issue #4): real servers, real processes, real crashes; nothing faked.

- The worker process is SIGKILLed in the middle of a busy run and a new one is started: every city
  still reaches certified, and each stream holds exactly the expected events, versions 1..n.
- PostgreSQL is stopped in the middle of a busy run and started again: activities retry with
  backoff, and afterwards verify finds nothing lost.

Each test drives CITIES cities at once through a whole cycle, the scenario `silver_cycle` of
tests/scenarios.py (registration, application, evidence in several batches, review, close, waiver,
decision, and a two-second appeal window that a workflow timer closes). Waits are bounded polling
loops; nothing asserts how long anything took.

Most of the kill test's time is Temporal waiting out record_events' start-to-close timeout (10 s,
workflows/city.py): nothing else tells the server that an activity on a dead worker is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError

from activities.names import RECORD_EVENTS, RecordEventsInput, RecordEventsResult
from activities.recording import CityActivities
from domain import Phase, ProgrammePolicy
from eventstore import EventStore, EventStoreError, RecordedEvent
from readmodel import city_stream, open_city_store
from tests.e2e.workflows.processes import DedicatedPostgres, start_worker, worker_processes
from tests.integration.workflows.harness import running_worker
from tests.polling import bounded
from tests.processes import ChildProcess
from tests.scenarios import SILVER_SCORE, Scenario, Step, signed, silver_cycle
from tests.temporal_env import dev_server_environment
from workflows.city import CityCertificationWorkflow, CityWorkflowInput

pytestmark = pytest.mark.slow  # still part of `make test`: nothing deselects slow tests

CITIES = 20
CRITERIA = SILVER_SCORE  # all approved: a Silver score
EVIDENCE_BATCHES = [CRITERIA[0:6], CRITERIA[6:12], CRITERIA[12:18], CRITERIA[18:23]]
REVIEW_BATCHES = [CRITERIA[0:12], CRITERIA[12:23]]
POLICY = ProgrammePolicy(appeal_window=timedelta(seconds=2))


def silver(city_id: str) -> Scenario:
    """One city's cycle: eleven Updates, each recording one to twelve events, then the award by
    the workflow's appeal-window timer (two seconds under POLICY)."""
    return silver_cycle(city_id, evidence_batches=EVIDENCE_BATCHES, review_batches=REVIEW_BATCHES)


def steps(city_id: str) -> list[Step]:
    """The commands a person gives, in order (the timer's step is the workflow's own)."""
    return [step for step in silver(city_id).steps if not step.is_timer]


EXPECTED_TYPES = silver("any").event_types
EXPECTED_EVENTS = CITIES * len(EXPECTED_TYPES)

BOUND = 120.0  # an upper bound on a wait that would otherwise hang if something is broken
UPDATE_ASKS = 20  # times a driver asks for one update's outcome (same update id) before giving up


@dataclass
class Run:
    """A busy run: CITIES city workflows on one task queue, each driven by its own task."""

    client: Client
    task_queue: str
    city_ids: list[str]
    drivers: asyncio.Future[list[None]] | None = None
    done: dict[str, int] = field(default_factory=dict)  # commands completed, by city

    async def start(self) -> None:
        for city_id in self.city_ids:
            await self.client.start_workflow(
                CityCertificationWorkflow.run,
                CityWorkflowInput(city_id=city_id, policy=POLICY),
                id=workflow_id(city_id),
                task_queue=self.task_queue,
            )
        self.drivers = asyncio.gather(*(self.drive(city_id) for city_id in self.city_ids))

    async def drive(self, city_id: str) -> None:
        # No run id on the handle: commands follow the city into a new run after continue-as-new.
        handle = self.client.get_workflow_handle(workflow_id(city_id))
        for n, step in enumerate(steps(city_id), start=1):
            command = step.command_at(datetime.now(UTC))  # the dev server's clock is the real one
            request = signed(city_id, command, step.actor)
            update_id = f"{city_id}-{n}-{command.command_name()}"
            for _ in range(UPDATE_ASKS):
                try:
                    await handle.execute_update(CityCertificationWorkflow.give, request, id=update_id)
                    self.done[city_id] = n
                    break
                except WorkflowUpdateRPCTimeoutOrCancelledError as e:
                    # The SDK reports our own cancellation (a bound running out) this way too: obey it.
                    if isinstance(e.__cause__, asyncio.CancelledError) or _cancelling():
                        raise
                    # Only the call gave up (no worker took the update in time); asking again with the
                    # same update id attaches to the same update, it does not give the command twice.
                    continue
                except WorkflowUpdateFailedError as e:
                    raise AssertionError(f"{city_id}: {command.command_name()} failed: {e.cause}") from e
            else:
                raise AssertionError(f"{city_id}: {command.command_name()} never completed")

    async def finish(self) -> None:
        """Every city's commands completed; AssertionError naming the stragglers after BOUND."""
        assert self.drivers is not None
        try:
            await asyncio.wait_for(asyncio.shield(self.drivers), BOUND)
        except TimeoutError:
            total = len(steps("any"))
            behind = {
                c: f"{self.done.get(c, 0)}/{total}" for c in self.city_ids if self.done.get(c, 0) < total
            }
            raise AssertionError(f"commands still not completed after {BOUND} s: {behind}") from None

    async def cancel(self) -> None:
        if self.drivers is not None and not self.drivers.done():
            self.drivers.cancel()
            with contextlib.suppress(BaseException):
                await self.drivers


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def workflow_id(city_id: str) -> str:
    return f"city-{city_id}"


def city_ids(prefix: str) -> list[str]:
    return [f"{prefix}-{i:02d}" for i in range(CITIES)]


async def stored_events(store: EventStore) -> int:
    async with store.connection() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM events"))


async def all_awarded(store: EventStore, ids: Sequence[str]) -> bool:
    async with store.connection() as conn:
        awarded = await conn.fetchval(
            "SELECT count(*) FROM events"
            " WHERE type = 'CertificationAwarded' AND stream_id = ANY ($1::text[])",
            [city_stream(c) for c in ids],
        )
    return int(awarded) == len(ids)


async def assert_exactly_once(client: Client, store: EventStore, ids: Sequence[str]) -> None:
    """Every city certified, each stream exactly the expected events at versions 1..n, verify ok."""
    for city_id in ids:
        events = await store.read_stream(city_stream(city_id))
        assert [e.type for e in events] == EXPECTED_TYPES, (city_id, [e.type for e in events])
        assert [e.version for e in events] == list(range(1, len(EXPECTED_TYPES) + 1)), city_id
        assert criteria_of(events, "EvidenceSubmitted") == CRITERIA, city_id
        assert criteria_of(events, "EvidenceApproved") == CRITERIA, city_id
        state = await client.get_workflow_handle(workflow_id(city_id)).query(
            CityCertificationWorkflow.current_state
        )
        assert state.phase is Phase.CERTIFIED, (city_id, state.phase)
        assert state.version == len(EXPECTED_TYPES), (city_id, state.version)
    assert await stored_events(store) == EXPECTED_EVENTS
    report = await store.verify()
    assert report.ok, "\n".join(report.lines())
    assert report.events == EXPECTED_EVENTS, report.lines()


def criteria_of(events: list[RecordedEvent], event_type: str) -> list[str]:
    return [e.data["criterion_id"] for e in events if e.type == event_type]


# --- 1. the worker process is killed ------------------------------------------------------------


async def committed_but_unreported(client: Client, store: EventStore, ids: Sequence[str]) -> list[str]:
    """Cities whose store already holds events that their workflow's history does not yet know of:
    an append committed by a record_events local activity whose workflow task has not completed
    (so no marker holds its result). With the worker frozen, such an append can only be finished
    by a retry of that task on another worker."""
    caught = []
    for city_id in ids:
        history = await client.get_workflow_handle(workflow_id(city_id)).fetch_history()
        known = await _version_known_to(client, history.events)
        stored = await store.read_stream(city_stream(city_id))
        if stored and stored[-1].version > known:
            caught.append(city_id)
    return caught


async def _version_known_to(client: Client, events: Sequence[HistoryEvent]) -> int:
    """The stream version a run's history has heard of: its last recorded append's result (a
    local activity's marker), else the version of the state it started with."""
    known = 0
    for event in events:
        if event.HasField("workflow_execution_started_event_attributes"):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [started] = await client.data_converter.decode(payloads, [CityWorkflowInput])
            known = started.state.version if started.state else 0
        marker = event.marker_recorded_event_attributes
        if event.HasField("marker_recorded_event_attributes") and marker.marker_name == "core_local_activity":
            [result] = await client.data_converter.decode(
                marker.details["result"].payloads, [RecordEventsResult]
            )
            known = max(known, result.version)
    return known


async def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
    store: EventStore, database_url: str, tmp_path: Path
) -> None:
    """SIGKILL the worker process while commands are in flight, at a moment when an append has
    committed but Temporal has not heard so (found by freezing the worker and comparing histories
    with the store): the worker died mid-record, inside the workflow task that runs the local
    activity. Start a new worker: the task is retried there, the append finds its events
    recorded, and every city completes, exactly once."""
    ids = city_ids("killed")
    async with dev_server_environment() as env:
        queue = f"faults-{uuid.uuid4()}"
        address = env.client.service_client.config.target_host

        def worker(n: int) -> ChildProcess:
            return start_worker(
                database_url=database_url,
                temporal_address=address,
                namespace=env.client.namespace,
                task_queue=queue,
                log_path=tmp_path / f"worker-{n}.log",
            )

        run = Run(env.client, queue, ids)
        with worker_processes() as started:
            first = worker(1)
            started.append(first)
            await first.wait_for_log("worker.started")
            await run.start()
            try:
                # Busy: a quarter of the run recorded. Then freeze the worker until the freeze
                # catches an append committed but not yet reported, and kill it there.
                await bounded("a busy run", lambda: _at_least(store, EXPECTED_EVENTS // 4))
                caught: list[str] = []
                for _ in range(200):
                    first.freeze()
                    caught = await committed_but_unreported(env.client, store, ids)
                    if caught:
                        break
                    first.thaw()
                    await asyncio.sleep(0.02)
                recorded_at_kill = await stored_events(store)
                await first.kill()  # frozen or not, SIGKILL ends it with nothing flushed
                assert caught, "no freeze caught an append committed but unreported"
                assert recorded_at_kill < EXPECTED_EVENTS, "the kill came after the run was over"

                second = worker(2)
                started.append(second)
                await second.wait_for_log("worker.started")
                await run.finish()
                await bounded("every city awarded", lambda: all_awarded(store, ids))
                await assert_exactly_once(env.client, store, ids)
            finally:
                await run.cancel()
            # The retries of the caught appends found their events recorded, and wrote none again.
            replays = [r for r in second.events("record_events.done") if r.get("replayed")]
            assert {r["city_id"] for r in replays} >= set(caught), (caught, replays)
            assert await second.stop() == 0, second.tail()


async def _at_least(store: EventStore, n: int) -> bool:
    return await stored_events(store) >= n


# --- 2. PostgreSQL goes away --------------------------------------------------------------------


@pytest.fixture
async def dedicated_postgres() -> AsyncIterator[DedicatedPostgres]:
    """A PostgreSQL server of this test's own: stopping it leaves the session's server alone."""
    server = await DedicatedPostgres.start()
    try:
        yield server
    finally:
        await server.cleanup()


@dataclass
class Attempts:
    """What the real record_events did, attempt by attempt."""

    failed: list[tuple[str, int, str]]  # (city, attempt, error) of attempts that raised
    succeeded: list[tuple[str, int]]  # (city, attempt)

    def counting(self, real: CityActivities) -> Callable[..., Any]:
        @activity.defn(name=RECORD_EVENTS)
        async def record_events(input: RecordEventsInput) -> RecordEventsResult:
            attempt = activity.info().attempt
            try:
                result = await real.record_events(input)
            except Exception as e:
                self.failed.append((input.city_id, attempt, f"{type(e).__name__}: {e}"))
                raise
            self.succeeded.append((input.city_id, attempt))
            return result

        return record_events


async def test_postgres_stopped_mid_run_activities_retry_and_nothing_is_lost(
    dedicated_postgres: DedicatedPostgres,
) -> None:
    """pg_ctl stop -m fast while commands are in flight, a few seconds down, start again on the same
    data directory: the appends failed meanwhile are retried with backoff, every city completes."""
    ids = city_ids("pgdown")
    dsn = await dedicated_postgres.create_database()
    attempts = Attempts(failed=[], succeeded=[])
    async with (
        await open_city_store(dsn) as worker_store,
        await open_city_store(dsn, min_size=1, max_size=2) as watcher,
        dev_server_environment() as env,
    ):
        await worker_store.migrate()
        real = CityActivities(worker_store)
        async with running_worker(env, worker_store, [attempts.counting(real), real.find_due_reminders]) as q:
            run = Run(env.client, q, ids)
            await run.start()
            try:
                await bounded("a busy run", lambda: _at_least(watcher, EXPECTED_EVENTS // 4))
                await dedicated_postgres.stop()
                assert not dedicated_postgres.is_running()
                # Down long enough for appends in flight and new ones to fail and back off.
                await bounded("appends failing", lambda: _failures_after(attempts, 0), bound=30)
                await asyncio.sleep(3)
                failed_while_down = len(attempts.failed)
                await dedicated_postgres.start_again()
                await run.finish()
                await bounded("every city awarded", lambda: _awarded_despite_outages(watcher, ids))
                await assert_exactly_once(env.client, watcher, ids)
            finally:
                await run.cancel()
    assert failed_while_down > 0
    retried = [(city, n) for city, n in attempts.succeeded if n > 1]
    assert retried, "some append succeeded only on a later attempt"
    assert max(n for _, n in retried) >= 2
    failed_cities = {city for city, _, _ in attempts.failed}
    assert failed_cities <= {city for city, _ in retried}, "every failed append was retried to success"


async def _failures_after(attempts: Attempts, n: int) -> bool:
    return len(attempts.failed) > n


async def _awarded_despite_outages(store: EventStore, ids: Sequence[str]) -> bool:
    try:
        return await all_awarded(store, ids)
    except EventStoreError:  # the watcher's pool reconnecting after the restart
        return False
