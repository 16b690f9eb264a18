"""citycert's own programs as child processes for end-to-end and fault tests.

A ChildProcess runs one command (`citycert worker`, `python worker.py`, `citycert api`...) in its own
session (a Ctrl-C meant for pytest does not reach it), logging to a file a test reads: citycert
logs JSON when stdout is not a terminal, so `events(name)` finds what it logged. `children()`
kills whatever is still running when the block ends, however it ends. Waits are bounded polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
POLL = 0.05  # seconds between looks in the bounded polling loops below


@dataclass
class ChildProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, name: str, argv: list[str], env: Mapping[str, str], log_path: Path) -> ChildProcess:
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=REPO,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(name, process, log_path)

    @property
    def pid(self) -> int:
        return self.process.pid

    def records(self) -> list[dict[str, Any]]:
        """The log lines that are JSON objects."""
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
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.name} (pid {self.pid}) ---\n" + "\n".join(text)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}\n{self.tail()}")

    async def wait_for_log(self, event: str, bound: float = 60) -> None:
        """Until the process logs `event`; AssertionError if it exits or `bound` seconds pass."""
        for _ in range(int(bound / POLL)):
            self.check_alive()
            if self.events(event):
                return
            await asyncio.sleep(POLL)
        raise AssertionError(f"{self.name} never logged {event}\n{self.tail()}")

    async def wait_healthy(self, url: str, bound: float = 60) -> None:
        """Until GET `url` answers 200; AssertionError if the process exits or `bound` seconds pass."""
        async with httpx.AsyncClient(timeout=5) as http:
            for _ in range(int(bound / POLL)):
                self.check_alive()
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(url)).status_code == 200:
                        return
                await asyncio.sleep(POLL)
        raise AssertionError(f"{self.name} never answered 200 on {url}\n{self.tail()}")

    def freeze(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    async def kill(self) -> None:
        """SIGKILL: no graceful shutdown, nothing flushed, no goodbye to Temporal or PostgreSQL
        (works on a frozen process too)."""
        os.kill(self.pid, signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 30)

    async def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as a process manager sends, and the exit code once it has exited."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.process.wait, timeout)

    def ensure_dead(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)  # its own session: children (if any) too
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(30)


@contextlib.contextmanager
def children() -> Iterator[list[ChildProcess]]:
    """Collects the processes a test starts; kills any still running when the block ends."""
    started: list[ChildProcess] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            child.ensure_dead()
