"""Runs the citycert Temporal worker: `python -m worker [--log-level INFO]`.

build_worker() makes a Worker the one way citycert runs them (task queue from settings, the
allow-listed sandbox, activity log context); run_worker() connects, runs it until told to stop
and shuts it down gracefully; main() wires the real workflows, activities and database. Several
workers may run on one task queue: Temporal spreads the tasks between them.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    Worker,
)

from app.schedules import ensure_reminder_schedule
from runtime.logging import bind_activity_context, configure_logging
from runtime.settings import Settings
from runtime.temporal import temporal_connection
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
    async with AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(temporal_connection(settings))
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


async def serve(settings: Settings) -> None:
    """The production worker: database, project workflows and activities, until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)

    def request_stop() -> None:
        stop.set()
        # A second Ctrl-C cuts the graceful wait short; a repeated SIGTERM (process managers may
        # signal both the process and its group) must not, so only SIGINT goes back to default.
        loop.remove_signal_handler(signal.SIGINT)

    for sig in signals:
        loop.add_signal_handler(sig, request_stop)
    async with AsyncExitStack() as stack:
        workflows = _project_workflows()
        activities = await _project_activities(settings, stack)
        if not workflows and not activities:
            raise RuntimeError("nothing to run: define workflows.WORKFLOWS or activities.build_activities")
        await run_worker(
            settings, workflows=workflows, activities=activities, stop=stop, reminder_schedule=True
        )


def _project_workflows() -> list[type]:
    """workflows.WORKFLOWS: the list of @workflow.defn classes this service runs."""
    import workflows

    return list(getattr(workflows, "WORKFLOWS", []))


async def _project_activities(settings: Settings, stack: AsyncExitStack) -> list[Callable[..., Any]]:
    """activities.build_activities(store, settings) over a migrated event store.

    The database is the configured one or the embedded PostgreSQL (runtime.embedded_postgres),
    which stays running for the next process. Migrations take an advisory lock, so several
    workers starting together is fine. Imported here so the worker module itself (and its tests)
    need no database.
    """
    import activities
    from eventstore import EventStore
    from runtime.embedded_postgres import ensure_database

    store = await EventStore.connect(await ensure_database(settings))
    stack.push_async_callback(store.close)
    await store.migrate()
    build = getattr(activities, "build_activities", None)
    if build is None:
        log.warning("worker.no_activities", reason="activities.build_activities is not defined yet")
        return []
    return list(build(store, settings))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="worker", description="Run the citycert Temporal worker.")
    parser.add_argument("--log-level", default=os.environ.get("CITYCERT_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    code = 0
    try:
        asyncio.run(serve(Settings()))
    except KeyboardInterrupt:
        log.warning("worker.interrupted", reason="second Ctrl-C during graceful shutdown")
        code = 130
    except Exception:
        log.exception("worker.failed")
        code = 1
    # The SDK's Rust threads can still call into Python while the interpreter finalises, which
    # aborts a cleanly stopped process with "PyGILState_Release" and exit code 134
    # (temporalio/sdk-python#300). Everything is closed by now, so run the exit hooks ourselves and
    # leave without finalising.
    logging.shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
