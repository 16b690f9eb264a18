"""`citycert worker --processes N`: N worker processes on one task queue, so one machine's cores are
used without a cluster.

A worker is one Python process, and a Python process runs its workflow code and its activities'
encoding on one core at a time; Temporal spreads the task queue over every process that polls it.
The pool starts N children (`python -m worker`), each told its slot (CITYCERT_WORKER_PROCESS, which
its log lines carry), and restarts a child that dies, after a pause that doubles while children keep
dying young. SIGTERM or Ctrl-C stops every child as a process manager would (SIGTERM, then the
children's own graceful stop), and the pool exits 0 only when each of them did.

Each child serves its own /metrics (runtime/telemetry.py) when CITYCERT_METRICS_PORT is set: the
child in slot k on that port + k, told so by its environment. One port per process rather than the
pool gathering its children's metrics behind one: each process stays one Prometheus target with
its own `up`, a child that hangs or restarts never stalls or empties another's scrape, and the
counters need no relabelling to stay apart (Prometheus' `instance` label does that).

Several processes need servers they share: with the embedded PostgreSQL and Temporal (no
CITYCERT_DATABASE_URL or CITYCERT_TEMPORAL_ADDRESS), each child would start servers of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from typing import NoReturn

import structlog

from runtime.logging import configure_logging
from runtime.process import StartupError, exit_now, run_until_signalled
from runtime.settings import Settings, env_name, load_settings

log = structlog.get_logger("citycert.worker_pool")

SLOT_VARIABLE = "CITYCERT_WORKER_PROCESS"
FIRST_RESTART_PAUSE = 1.0  # seconds
LONGEST_RESTART_PAUSE = 30.0
LIVED_LONG_ENOUGH = 60.0  # a child that ran this long before dying restarts after the first pause
STOP_GRACE = 30.0  # seconds the children get to stop before they are killed


def default_processes(settings: Settings) -> int:
    """One per core when the servers are shared; one when this process would embed them."""
    if settings.database_url is None or settings.temporal_address is None:
        return 1
    return os.cpu_count() or 1


def metrics_port_of(settings: Settings, slot: int) -> int | None:
    """Where the child in `slot` serves /metrics: CITYCERT_METRICS_PORT + slot (None: no metrics)."""
    return None if settings.metrics_port is None else settings.metrics_port + slot


def check_processes(settings: Settings, processes: int) -> None:
    if processes < 1:
        raise StartupError(f"--processes must be at least 1, not {processes}")
    last = metrics_port_of(settings, processes - 1)
    if last is not None and last > 65535:
        raise StartupError(
            f"--processes {processes} needs metrics ports {settings.metrics_port} to {last}, past 65535: "
            f"set {env_name('metrics_port')} lower"
        )
    if processes > 1 and (settings.database_url is None or settings.temporal_address is None):
        raise StartupError(
            f"--processes {processes} needs CITYCERT_DATABASE_URL and CITYCERT_TEMPORAL_ADDRESS: "
            "without them each process would start embedded servers of its own. Set both, or run "
            "one process."
        )


@dataclass
class _Child:
    slot: int
    argv: list[str]
    metrics_port: int | None = None
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    pause: float = FIRST_RESTART_PAUSE
    exit_codes: list[int] = field(default_factory=list)

    async def start(self) -> None:
        env = {**os.environ, SLOT_VARIABLE: str(self.slot)}
        if self.metrics_port is not None:
            env[env_name("metrics_port")] = str(self.metrics_port)
        # Children inherit stdout and stderr: their JSON lines go where the pool's go.
        self.process = await asyncio.create_subprocess_exec(*self.argv, env=env)
        self.started_at = asyncio.get_running_loop().time()
        log.info(
            "worker_pool.child_started", slot=self.slot, pid=self.process.pid, metrics_port=self.metrics_port
        )

    async def wait(self) -> int:
        assert self.process is not None
        code = await self.process.wait()
        self.exit_codes.append(code)
        return code

    def next_pause(self) -> float:
        """How long to wait before restarting: the first pause again after a long life."""
        lived = asyncio.get_running_loop().time() - self.started_at
        if lived >= LIVED_LONG_ENOUGH:
            self.pause = FIRST_RESTART_PAUSE
        pause = self.pause
        self.pause = min(self.pause * 2, LONGEST_RESTART_PAUSE)
        return pause

    def signal(self, sig: signal.Signals) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)


async def supervise(
    argv: list[str], processes: int, stop: asyncio.Event, settings: Settings | None = None
) -> None:
    """Run `processes` children of `argv` until `stop`, restarting any that dies meanwhile; with
    `settings`' metrics port set, each child serves /metrics on a port of its own."""
    ports = [None if settings is None else metrics_port_of(settings, slot) for slot in range(processes)]
    children = [_Child(slot, argv, ports[slot]) for slot in range(processes)]
    for child in children:
        await child.start()
    log.info("worker_pool.started", processes=processes, pids=[c.process.pid for c in children if c.process])
    stopping = asyncio.create_task(stop.wait())
    waits = {asyncio.create_task(child.wait()): child for child in children}
    while not stop.is_set():
        done, _ = await asyncio.wait({stopping, *waits}, return_when=asyncio.FIRST_COMPLETED)
        for task in done - {stopping}:
            child = waits.pop(task)
            if stop.is_set():
                continue
            pause = child.next_pause()
            log.warning("worker_pool.child_exited", slot=child.slot, code=task.result(), restart_in=pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            if not stop.is_set():
                await child.start()
                waits[asyncio.create_task(child.wait())] = child
    for child in waits.values():
        child.signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*waits), STOP_GRACE)
    except TimeoutError:
        for child in waits.values():
            child.signal(signal.SIGKILL)
        await asyncio.gather(*waits)
    failed = {c.slot: c.exit_codes[-1] for c in children if c.exit_codes and c.exit_codes[-1] != 0}
    log.info("worker_pool.stopped", failed=failed)
    if failed:
        raise RuntimeError(f"worker processes stopped with errors: {failed}")


def run_pool(log_level: str, processes: int | None) -> NoReturn:
    """The pool process: its children run `python -m worker` with the same settings."""
    settings = load_settings()
    count = default_processes(settings) if processes is None else processes
    if count == 1:  # no pool around a single worker: it runs here (embedded servers and all)
        from app.worker import run_process

        run_process(log_level)
    configure_logging(log_level)
    argv = [sys.executable, "-m", "worker", "--log-level", log_level]

    async def main(stop: asyncio.Event) -> None:
        check_processes(settings, count)
        await supervise(argv, count, stop, settings)

    exit_now(run_until_signalled(main))
