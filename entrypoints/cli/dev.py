"""Running citycert locally: `citycert dev` (everything), `citycert api` (the API alone) and
`citycert seed-demo` (the demo cohort into a running stack). The runtime is entrypoints.dev.runtime."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, NoReturn

import structlog
import typer
from rich.console import Console

log = structlog.get_logger("citycert.dev")

LogLevel = Annotated[str, typer.Option(help="Log level: DEBUG, INFO, WARNING, ERROR")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `citycert` app."""
    app.command("dev")(dev)
    app.command("api")(api)
    app.command("seed-demo")(seed_demo)


def dev(
    seed: Annotated[bool, typer.Option(help="Seed the demo cohort on the first start")] = True,
    log_level: LogLevel = "INFO",
) -> None:
    """Run everything locally: PostgreSQL, Temporal (with its web UI), a worker and the API.

    The demo cohort is seeded on the first start. Ctrl-C stops it all; the next start resumes with
    the same data (CITYCERT_DATA_DIR, default .citycert). A port in use or a bad setting stops
    start-up with a message naming the setting to change.
    """
    from entrypoints.dev.runtime import DevInfo, load_settings, render_box, run_dev

    def ready(info: DevInfo) -> None:
        Console(soft_wrap=False).print(render_box(info))
        sys.stdout.flush()

    _run_and_exit(log_level, lambda stop: run_dev(load_settings(), stop, seed=seed, on_ready=ready))


def api(log_level: LogLevel = "INFO") -> None:
    """Run the HTTP API alone, on CITYCERT_API_HOST:CITYCERT_API_PORT.

    It needs PostgreSQL and Temporal reachable as configured: a running `citycert dev`, or
    CITYCERT_DATABASE_URL and CITYCERT_TEMPORAL_ADDRESS; run `citycert worker` beside it for
    commands to be carried out.
    """
    from entrypoints.dev.runtime import load_settings, run_api

    _run_and_exit(log_level, lambda stop: run_api(load_settings(), stop))


def seed_demo(log_level: LogLevel = "INFO") -> None:
    """Seed the demo cohort (a dozen fictional cities) into a running stack.

    Cities already there are left alone. A worker runs in this process while it seeds; with no
    Temporal running, it starts the dev server for the time it takes.
    """

    async def main(stop: asyncio.Event) -> None:
        from entrypoints.dev.runtime import load_settings, prepare_data_dir, seed_into_stack

        settings = prepare_data_dir(load_settings())
        report = await seed_into_stack(settings, stop)
        if report is not None:
            Console().print(
                f"demo cohort: {len(report.seeded)} cities seeded, {len(report.skipped)} already there"
            )

    _run_and_exit(log_level, main)


def _run_and_exit(log_level: str, main: Callable[[asyncio.Event], Awaitable[None]]) -> NoReturn:
    from runtime.logging import configure_logging

    # Before any Temporal client exists: the SDK Core's logs are forwarded from the first one on.
    configure_logging(log_level)
    _exit(run_until_signalled(main))


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Run `main(stop)` with SIGINT/SIGTERM setting `stop`; the exit code.

    A first Ctrl-C asks for a clean stop; a second one interrupts it (exit 130)."""
    from entrypoints.dev.runtime import StartupError

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def request_stop() -> None:
            if not stop.is_set():
                log.info("stop_requested", hint="press Ctrl-C again to stop at once")
            stop.set()
            loop.remove_signal_handler(signal.SIGINT)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, request_stop)
        await main(stop)

    try:
        asyncio.run(runner())
    except StartupError as e:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {e}", highlight=False)
        return 1
    except KeyboardInterrupt:
        log.warning("interrupted", reason="second Ctrl-C while stopping")
        return 130
    except Exception:
        log.exception("failed")
        return 1
    return 0


def _exit(code: int) -> NoReturn:
    """Leave without finalising the interpreter, as worker.main does: the Temporal SDK's Rust
    threads can call into Python during finalisation and abort a cleanly stopped process
    (temporalio/sdk-python#300). Everything is closed by now; the exit hooks still run."""
    logging.shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
