"""Process handling every long-running citycert process shares: ports, start-up errors, signals,
waiting while watching, and a clean exit."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import structlog

log = structlog.get_logger("citycert.process")

T = TypeVar("T")


class StartupError(RuntimeError):
    """Start-up cannot go on; the message says why and which setting to change."""


class Stopped(Exception):
    """Stop was requested while starting up: unwind quietly."""


def ensure_port_free(
    host: str, port: int, *, setting: str, what: str, host_setting: str | None = None
) -> None:
    """Bind the port for a moment, as the server will; a StartupError naming `setting` if we cannot."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        named = host_setting or setting
        raise StartupError(f"{what}: cannot resolve host {host!r} ({e.strerror}); set {named}") from e
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        # As uvicorn and asyncio do: a port left in TIME_WAIT by our last run is free to reuse.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"{what}: port {port} on {host} is already in use; stop what uses it or set {setting} "
                    "to a free port"
                ) from e
            named = host_setting or setting
            raise StartupError(f"{what}: cannot listen on {host}:{port} ({e.strerror}); set {named}") from e


def port_answers(host: str, port: int) -> bool:
    """Whether something accepts connections on host:port (half a second to say so)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event, *watch: asyncio.Task[Any]) -> T:
    """The result of `work`, unless stop is set first (Stopped) or a watched task ends first
    (its error, or a StartupError); `work` is cancelled in both cases."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({task, stopping, *watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task in done:
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    for watched in watch:
        if watched in done:
            watched.result()
            raise StartupError(f"{watched.get_name()} stopped unexpectedly")
    raise Stopped


def run_until_signalled(main: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Run `main(stop)` until it returns; SIGINT or SIGTERM sets `stop` (a second Ctrl-C
    interrupts at once). The process's exit code: 0 done, 1 failed, 130 interrupted."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def request_stop() -> None:
            if not stop.is_set():
                log.info("stop_requested", hint="press Ctrl-C again to stop at once")
            stop.set()
            # A second Ctrl-C cuts the graceful wait short; a repeated SIGTERM (process managers
            # may signal both the process and its group) must not, so only SIGINT goes back.
            loop.remove_signal_handler(signal.SIGINT)

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, request_stop)
        await main(stop)

    try:
        asyncio.run(runner())
    except StartupError as e:
        from rich.console import Console

        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {e}", highlight=False)
        return 1
    except KeyboardInterrupt:
        log.warning("interrupted", reason="second Ctrl-C while stopping")
        return 130
    except Exception:
        log.exception("failed")
        return 1
    return 0


def exit_now(code: int) -> NoReturn:
    """Leave without finalising the interpreter: the Temporal SDK's Rust threads can call into
    Python during finalisation and abort a cleanly stopped process with "PyGILState_Release" and
    exit code 134 (temporalio/sdk-python#300). Everything is closed by now; the exit hooks run."""
    logging.shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
