"""`citycert dev` as a developer runs it: a subprocess with its own data directory and free ports,
driven over HTTP (httpx) and through the `citycert` command line with the same environment.

Every process is cleaned up, also when a test fails: the dev process gets SIGINT (then SIGKILL),
and a Temporal dev server or embedded PostgreSQL it left behind is stopped by its pid / data folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.embedded_postgres import stop_database
from runtime.settings import Settings
from runtime.store import embedded_postgres_running

CITYCERT = Path(sys.executable).parent / "citycert"
TOKEN = re.compile(r"cct_[A-Za-z0-9_-]{43}")
START_TIMEOUT = 180.0  # a first start seeds the demo cohort; a loaded 2-core machine is slow
STOP_TIMEOUT = 60.0
CLI_TIMEOUT = 90.0
APPEAL_WINDOW = "PT4S"  # the API's policy for new cities: an e2e city is certified in seconds


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def eventually(check: Any, *, timeout: float = 60.0, interval: float = 0.25, what: str = "condition") -> Any:
    """Poll `check()` until it returns something truthy; bounded."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached in {timeout:g} s; last value {last!r}")


@dataclass
class Dev:
    """One data directory and its ports; `start` runs `citycert dev` on them (again and again)."""

    data_dir: Path
    api_port: int
    temporal_port: int
    ui_port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    output_path: Path | None = None
    box: str = ""
    token: str = ""
    temporal_pids: set[int] = field(default_factory=set)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def output(self) -> str:
        if self.output_path is None or not self.output_path.exists():
            return ""
        return self.output_path.read_text(encoding="utf-8", errors="replace")

    def start(self, timeout: float = START_TIMEOUT) -> str:
        """Start `citycert dev`, wait for its box and a healthy API; the box's text."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        self.output_path = self.data_dir.parent / f"dev-output-{self.starts}.txt"
        with self.output_path.open("wb") as out:
            self.process = subprocess.Popen(
                [str(CITYCERT), "dev"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in pytest's terminal is ours to pass on
            )
        deadline = time.monotonic() + timeout
        while True:
            text = self.output()
            self._note_temporal_pids(text)
            if "╰" in text:
                break
            if self.process.poll() is not None:
                raise AssertionError(f"citycert dev exited with {self.process.returncode}:\n{text[-5000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no box from citycert dev after {timeout:g} s:\n{text[-5000:]}")
            time.sleep(0.2)
        start = text.index("╭")
        self.box = text[start : text.index("╰", start) + 1]
        # The box shows the token only on the start that made it; the file always holds it.
        self.token = (self.data_dir / "operator-token").read_text().strip()
        assert TOKEN.fullmatch(self.token), self.token
        with httpx.Client(base_url=self.api_url, timeout=10) as http:
            eventually(lambda: _healthy(http), timeout=30, what="GET /health 200")
        return self.box

    def _note_temporal_pids(self, text: str) -> None:
        for line in text.splitlines():
            if '"temporal.dev_server_started"' in line:
                with contextlib.suppress(ValueError, KeyError):
                    self.temporal_pids.add(int(json.loads(line)["pid"]))

    def stop(self, sig: int = signal.SIGINT, timeout: float = STOP_TIMEOUT) -> int:
        """Signal the dev process and wait for it; its exit code (SIGKILL after `timeout`)."""
        process = self.process
        assert process is not None
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired as e:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
                raise AssertionError(
                    f"citycert dev did not stop within {timeout:g} s:\n{self.output()[-3000:]}"
                ) from e
        self._note_temporal_pids(self.output())
        return process.returncode

    def leftovers(self) -> list[str]:
        """Processes this data directory still has running after a stop."""
        found = [f"temporal dev server pid {pid}" for pid in self.temporal_pids if _alive(pid)]
        if embedded_postgres_running(self.data_dir / "pg"):
            found.append(f"PostgreSQL in {self.data_dir / 'pg'}")
        return found

    def clean_up(self) -> None:
        """Whatever happened: no process of ours survives."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(AssertionError):
                self.stop()
        for pid in self.temporal_pids:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if embedded_postgres_running(self.data_dir / "pg"):
            stop_database(Settings(data_dir=self.data_dir))

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=60)

    def cli(self, *args: str, expect: int = 0, token: str | None = None) -> subprocess.CompletedProcess[str]:
        """`citycert ARGS` with the dev process's environment (and CITYCERT_TOKEN, when given);
        asserts the exit code."""
        done = subprocess.run(
            [str(CITYCERT), *args],
            env=self.env if token is None else {**self.env, "CITYCERT_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == expect, (args, done.returncode, done.stdout, done.stderr)
        return done

    def cli_all(self, *commands: list[str]) -> list[str]:
        """Several CLI commands at once (each is a Python start-up); their stdout, in order."""
        running = [
            subprocess.Popen(
                [str(CITYCERT), *args],
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            for args in commands
        ]
        outputs = []
        for args, process in zip(commands, running, strict=True):
            out, err = process.communicate(timeout=CLI_TIMEOUT)
            assert process.returncode == 0, (args, process.returncode, out, err)
            outputs.append(out)
        return outputs

    def token_for(self, *commands: list[str]) -> list[str]:
        """Tokens from `citycert token create` commands run together."""
        return [out.strip() for out in self.cli_all(*(["token", "create", *c] for c in commands))]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _healthy(http: httpx.Client) -> bool:
    try:
        return http.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    """`citycert dev` started once for the module (a first start: the demo cohort is seeded)."""
    root = tmp_path_factory.mktemp("citycert-e2e")
    api_port, temporal_port, ui_port = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYCERT_")}
    env.update(
        CITYCERT_DATA_DIR=str(root / "data"),
        CITYCERT_API_PORT=str(api_port),
        CITYCERT_TEMPORAL_PORT=str(temporal_port),
        CITYCERT_TEMPORAL_UI_PORT=str(ui_port),
        CITYCERT_APPEAL_WINDOW=APPEAL_WINDOW,
        PYTHONIOENCODING="utf-8",
        PYTHONUNBUFFERED="1",
    )
    running = Dev(
        data_dir=root / "data", api_port=api_port, temporal_port=temporal_port, ui_port=ui_port, env=env
    )
    try:
        running.start()
        yield running
    finally:
        running.clean_up()
    shutil.rmtree(root, ignore_errors=True)
