"""citycert's own processes as the compose file runs them: `citycert worker` and `citycert api`,
configured only through CITYCERT_* variables, each logging to a file a test can read.

Each process gets its own session (a Ctrl-C meant for pytest does not reach it), and `services()`
kills whatever is still running when the block ends, however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
CITYCERT = Path(sys.executable).with_name("citycert")  # the console script of this venv
IMAGE_LIKE = Path(__file__).resolve().parent / "image_like"  # sitecustomize: imports as in the image
POLL = 0.1


def citycert_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its CITYCERT_* variables, plus `settings`; Python
    imports as in the image (without the packages the Dockerfile leaves out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYCERT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(IMAGE_LIKE), env.get("PYTHONPATH")) if p)
    return {**env, **settings}


@dataclass
class Service:
    """One child process running a `citycert` command."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, name: str, argv: list[str], env: Mapping[str, str], log_path: Path) -> Service:
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
        """The JSON log lines (citycert logs JSON when stdout is not a terminal)."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    out.append(record)
        return out

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("event") == name]

    def tail(self, lines: int = 30) -> str:
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

    async def kill(self) -> None:
        """SIGKILL: no graceful shutdown, nothing flushed, no goodbye to Temporal or PostgreSQL."""
        os.kill(self.pid, signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 30)

    async def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as `docker compose stop` sends, and the exit code once it has exited."""
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
def services() -> Iterator[list[Service]]:
    """Collects the processes a test starts; kills any still running when the block ends."""
    started: list[Service] = []
    try:
        yield started
    finally:
        for service in reversed(started):
            service.ensure_dead()
