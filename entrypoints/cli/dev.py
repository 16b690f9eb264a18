"""Running citycert locally: `citycert dev` (everything), `citycert api` (the API alone) and
`citycert seed-demo` (the demo cohort into a running stack). The runtime is entrypoints.dev.runtime."""

from __future__ import annotations

import asyncio
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
    from entrypoints.dev.runtime import DevInfo, render_box, run_dev
    from runtime.settings import load_settings

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
    from entrypoints.dev.runtime import run_api
    from runtime.settings import load_settings

    _run_and_exit(log_level, lambda stop: run_api(load_settings(), stop))


def seed_demo(log_level: LogLevel = "INFO") -> None:
    """Seed the demo cohort (a dozen fictional cities) into a running stack.

    Cities already there are left alone. A worker runs in this process while it seeds; with no
    Temporal running, it starts the dev server for the time it takes.
    """

    async def main(stop: asyncio.Event) -> None:
        from entrypoints.dev.runtime import seed_into_stack
        from runtime.settings import load_settings, prepare_data_dir

        settings = prepare_data_dir(load_settings())
        report = await seed_into_stack(settings, stop)
        if report is not None:
            Console().print(
                f"demo cohort: {len(report.seeded)} cities seeded, {len(report.skipped)} already there"
            )

    _run_and_exit(log_level, main)


def _run_and_exit(log_level: str, main: Callable[[asyncio.Event], Awaitable[None]]) -> NoReturn:
    from runtime.logging import configure_logging
    from runtime.process import exit_now, run_until_signalled

    # Before any Temporal client exists: the SDK Core's logs are forwarded from the first one on.
    configure_logging(log_level)
    exit_now(run_until_signalled(main))
