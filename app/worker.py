"""The worker's composition: build_worker() makes a Worker the one way citycert runs them (task
queue from settings, the allow-listed sandbox, activity log context); run_worker() connects, runs it
until told to stop and shuts it down gracefully; serve() wires the real workflows, activities and
database. Several workers may run on one task queue: Temporal spreads the tasks between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any, NoReturn

import structlog
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from app.relay import relaying
from app.schedules import ensure_reminder_schedule
from app.supervision import stopped_workflows
from eventstore import EventStore
from runtime import telemetry
from runtime.keys import command_key
from runtime.logging import bind_activity_context, configure_logging
from runtime.process import exit_now, run_until_signalled
from runtime.settings import Settings, load_settings
from runtime.store import open_store
from runtime.temporal import open_temporal
from workflows import search_attributes
from workflows.contracts import configure_command_key
from workflows.sandbox import PASSTHROUGH_MODULES, workflow_runner

log = structlog.get_logger("worker")  # not __name__: that is "__main__" under `python -m worker`

GRACEFUL_SHUTDOWN = timedelta(seconds=10)
"""How long running activities get to finish after a stop request before they are cancelled."""


class ActivityLogContext(Interceptor):
    """Binds workflow_id, run_id, activity and attempt to every structlog event an activity logs."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _BindActivityContext(next)


class _BindActivityContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        # The activity's span (temporalio's TracingInterceptor, outside this one) names the city.
        telemetry.mark_span(city_id=getattr(input.args[0], "city_id", None) if input.args else None)
        with bind_activity_context():
            return await self.next.execute_activity(input)


def build_worker(
    client: Client,
    settings: Settings,
    *,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
    task_queue: str | None = None,
    passthrough: Iterable[str] = PASSTHROUGH_MODULES,
    interceptors: Sequence[Interceptor] = (),
    graceful_shutdown_timeout: timedelta = GRACEFUL_SHUTDOWN,
    **worker_options: Any,
) -> Worker:
    """A Worker on settings.temporal_task_queue (or `task_queue`) with the allow-listed sandbox.

    Raises RuntimeError("Failed validating workflow ...") when a workflow module imports a module
    outside `passthrough` (see workflows/sandbox.py). Extra keyword arguments go to Worker.
    """
    worker_options.setdefault("max_cached_workflows", settings.worker_cached_workflows)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=workflow_runner(passthrough),
        interceptors=[ActivityLogContext(), *interceptors],
        graceful_shutdown_timeout=graceful_shutdown_timeout,
        **worker_options,
    )


async def run_worker(
    settings: Settings,
    *,
    workflows: Sequence[type],
    activities: Sequence[Callable[..., Any]],
    stop: asyncio.Event,
    client: Client | None = None,
    started: asyncio.Event | None = None,
    reminder_schedule: bool = False,
    **build_options: Any,
) -> None:
    """Run a worker until `stop` is set, then shut it down gracefully and return.

    Without `client`, connects with settings (starting the embedded dev server when
    settings.temporal_address is unset, and stopping it on the way out). `started` is set once
    the worker polls. A fatal worker error (e.g. the server gone for good) is raised here.
    """
    # The key this process's workflows check every command's proof with (workflows/contracts.py).
    configure_command_key(command_key(settings))
    async with AsyncExitStack() as stack:
        if client is None:
            connected, _ = await stack.enter_async_context(
                open_temporal(settings, start_dev_server=True, search_attributes=search_attributes.ALL)
            )
            client = connected
        worker = build_worker(client, settings, workflows=workflows, activities=activities, **build_options)
        if reminder_schedule:
            # Idempotent: every worker makes sure the daily sweep exists and matches the settings.
            await ensure_reminder_schedule(
                client, worker.task_queue, settings.reminder_days, settings.reminder_sweep_every
            )
        running = asyncio.create_task(worker.run(), name="temporal-worker")
        stopping = asyncio.create_task(stop.wait(), name="worker-stop")
        log.info(
            "worker.started",
            task_queue=worker.task_queue,
            namespace=client.namespace,
            workflows=[w.__name__ for w in workflows],
            activities=len(activities),
        )
        if started is not None:
            started.set()
        try:
            await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Also on cancellation of run_worker itself: never leave a polling worker behind.
            stopping.cancel()
            if not running.done():
                log.info("worker.stopping")
                await worker.shutdown()  # waits for in-flight activities up to the graceful timeout
        running.result()  # the worker's fatal error, if it ended on its own
        if not stop.is_set():
            raise RuntimeError("worker stopped without being asked to")
        log.info("worker.stopped")


async def watch_workflows(store: EventStore, client: Client, every: float) -> NoReturn:
    """Count the city workflows not running (app/supervision.py) every `every` seconds, for the
    citycert_workflows_not_running gauge; a check that fails is logged and tried at the next."""
    while True:
        try:
            stopped = await stopped_workflows(store, client)
        except Exception as e:  # Temporal or the database away for a moment: the next round tells
            log.warning("workflows.check_failed", error=str(e))
        else:
            telemetry.WORKFLOWS_NOT_RUNNING.set(len(stopped))
            telemetry.WORKFLOWS_CHECKED.set_to_current_time()
            if stopped:
                log.warning(
                    "workflows.not_running", cities=[s.city_id for s in stopped][:20], count=len(stopped)
                )
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def watching_workflows(store: EventStore, client: Client, settings: Settings) -> AsyncIterator[None]:
    """watch_workflows running beside the block."""
    task = asyncio.create_task(
        watch_workflows(store, client, settings.workflow_check_every.total_seconds()), name="workflow-check"
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """The production worker: database, the city and reminder workflows, and the mail relay when
    CITYCERT_SMTP_URL is set, until `stop` is set. With CITYCERT_METRICS_PORT set, /metrics there
    (and the workflows not running counted); traces with OTEL_EXPORTER_OTLP_ENDPOINT set."""
    import workflows
    from activities import build_activities

    telemetry.configure_tracing("citycert-worker")
    # In a pool (app/worker_pool.py) each child is given a metrics port of its own (the pool's
    # CITYCERT_METRICS_PORT + its slot), and only the first counts the workflows not running.
    slot = int(os.environ.get("CITYCERT_WORKER_PROCESS", "0") or 0)
    async with AsyncExitStack() as stack:
        metrics = stack.enter_context(telemetry.serving_metrics(settings))
        store = await stack.enter_async_context(open_store(settings))
        # The store's folded states for its appends, as many as the workflow runs this worker
        # keeps: with the store's default (10,000) they were most of a worker's memory beyond the
        # SDK's cache when many cities are open (bench/lifecycle.py's open phase).
        store.keep_states(settings.worker_cached_workflows)
        await stack.enter_async_context(relaying(store, settings))
        client, _ = await stack.enter_async_context(
            open_temporal(settings, start_dev_server=True, search_attributes=search_attributes.ALL)
        )
        if metrics is not None and slot == 0:
            await stack.enter_async_context(watching_workflows(store, client, settings))
        await run_worker(
            settings,
            workflows=workflows.WORKFLOWS,
            activities=build_activities(store),
            stop=stop,
            client=client,
            reminder_schedule=True,
        )


def run_process(log_level: str) -> NoReturn:
    """A worker process: serve until SIGINT/SIGTERM, then exit (0 stopped cleanly, 1 failed,
    130 interrupted by a second Ctrl-C). `python -m worker` and `citycert worker` both run this."""
    configure_logging(log_level)
    exit_now(run_until_signalled(lambda stop: serve(load_settings(), stop)))
