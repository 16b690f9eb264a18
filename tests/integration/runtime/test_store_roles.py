"""Who migrates and who runs: open_store migrates as the schema's owner and runs every process as
a role in the citycert_runtime group, which cannot rewrite history (migration 0008)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
import pytest
from structlog.testing import capture_logs

from eventstore.migrations import migrate, pending_migrations, shipped_migrations
from runtime.embedded_postgres import (
    RUNTIME_LOGIN,
    ensure_database,
    ensure_runtime_login,
    stop_database,
    with_database,
    with_user,
)
from runtime.process import StartupError
from runtime.settings import Settings
from runtime.store import migrate_database, open_store

NEWEST = shipped_migrations()[-1]


async def test_by_default_the_store_runs_as_the_runtime_login_of_a_fresh_embedded_server(folder):
    # Given no database setting at all (a first `citycert dev`: a new cluster, no roles yet),
    settings = Settings(database_url=None, data_dir=folder / "citycert")
    try:
        # when a process opens its store,
        async with open_store(settings) as store, store.connection() as conn:
            # then it is connected as the runtime login, not as the superuser that migrated,
            assert await conn.fetchval("SELECT current_user") == RUNTIME_LOGIN
            assert await pending_migrations(conn) == []
            # and the append-only trigger is out of its reach.
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    finally:
        stop_database(settings)


async def test_two_databases_of_a_fresh_cluster_migrate_at_the_same_moment(folder):
    # Given a cluster where the roles do not exist yet, and two empty databases in it,
    settings = Settings(database_url=None, data_dir=folder / "citycert")
    try:
        await migrate_database(settings)  # starts the server, creates `citycert`
        server = with_database(await ensure_database(settings), "postgres")
        admin = await asyncpg.connect(server)
        try:
            await admin.execute("DROP DATABASE citycert WITH (FORCE)")
            await admin.execute(f"DROP ROLE {RUNTIME_LOGIN}, citycert_runtime, citycert_writer")
            for name in ("city_a", "city_b"):
                await admin.execute(f"CREATE DATABASE {name}")
        finally:
            await admin.close()

        # when both migrate at once (each creating the cluster-wide roles, if first),
        async def migrate_one(name: str) -> list[int]:
            conn = await asyncpg.connect(with_database(server, name))
            try:
                return await migrate(conn)
            finally:
                await conn.close()

        applied = await asyncio.gather(migrate_one("city_a"), migrate_one("city_b"))

        # then both apply every migration, and a runtime login works in each.
        assert applied == [[m.version for m in shipped_migrations()]] * 2
        for name in ("city_a", "city_b"):
            conn = await asyncpg.connect(await ensure_runtime_login(with_database(server, name)))
            try:
                assert await pending_migrations(conn) == []
            finally:
                await conn.close()
    finally:
        stop_database(settings)


WARNING = "history_protected_by_trigger_only"


@contextmanager
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """What the block logged, as text: structlog's own events, and those an earlier test's logging
    configuration (in this process) sent through the standard library instead."""
    said: list[str] = []
    with capture_logs() as logs:
        yield said
    said += [str(e["event"]) for e in logs] + [r.getMessage() for r in caplog.records]


async def test_with_an_owner_url_migrations_run_as_the_owner_and_the_process_as_the_runtime(
    databases, caplog
):
    # Given an empty database, its owner's URL and a runtime login's URL (the cluster's roles
    # exist: another database migrated, as an operator's SQL in the README would do),
    await databases.migrated()
    owner = await databases.create()
    runtime = await ensure_runtime_login(owner)
    settings = Settings(database_url=runtime, database_owner_url=owner)
    # when a process opens its store,
    with logged(caplog) as said:
        async with open_store(settings) as store, store.connection() as conn:
            # then the owner migrated, and the process runs as the runtime login, without a warning.
            assert await pending_migrations(conn) == []
            assert await conn.fetchval("SELECT current_user") == RUNTIME_LOGIN
    assert not [line for line in said if WARNING in line]


async def test_with_only_the_owners_url_the_process_migrates_and_warns(databases, caplog):
    # Given only a database URL whose role owns the schema (as before the role split),
    settings = Settings(database_url=await databases.create())
    # when a process opens its store, it migrates and runs, and says history has less protection.
    with logged(caplog) as said:
        async with open_store(settings) as store, store.connection() as conn:
            assert await pending_migrations(conn) == []
    assert [line for line in said if WARNING in line]


async def test_a_runtime_role_refuses_to_start_on_a_database_that_lacks_a_migration(database_url):
    # Given a database whose newest migration is not recorded (new code, a database migrated by an
    # older release), and a process that holds only the runtime role's URL,
    owner = await asyncpg.connect(database_url)
    try:
        await owner.execute("DELETE FROM schema_migrations WHERE version = $1", NEWEST.version)
    finally:
        await owner.close()
    settings = Settings(database_url=await ensure_runtime_login(database_url))

    # when it opens its store, it refuses to start, naming the migration and what to do.
    with pytest.raises(StartupError) as refused:
        async with open_store(settings):
            pass
    message = str(refused.value)
    assert f"{NEWEST.version:04d}_{NEWEST.name}" in message
    assert "citycert migrate" in message and "CITYCERT_DATABASE_OWNER_URL" in message


async def test_an_owner_that_may_not_create_roles_is_told_which_to_create(folder):
    # Given a fresh cluster (no citycert roles) and two owners of their own databases, neither a
    # superuser: one that may create roles and one that may not,
    settings = Settings(database_url=None, data_dir=folder / "citycert")
    try:
        server = with_database(await ensure_database(settings), "postgres")
        admin = await asyncpg.connect(server)
        try:
            for statement in (
                "CREATE ROLE creator LOGIN CREATEROLE",
                "CREATE DATABASE created OWNER creator",
                "CREATE ROLE plain LOGIN",
                "CREATE DATABASE refused OWNER plain",
            ):
                await admin.execute(statement)
        finally:
            await admin.close()

        # when the one that may not create roles migrates first, it stops at 0008, saying what
        # a superuser should run,
        with pytest.raises(StartupError) as refused:
            await migrate_database(
                Settings(database_url=with_user(with_database(server, "refused"), "plain"))
            )
        message = str(refused.value)
        assert "0008_roles" in message and "may not create roles" in message
        assert (
            "CREATE ROLE citycert_writer NOLOGIN" in message and "GRANT citycert_writer TO plain" in message
        )

        # while the one that may creates them, and its database migrates whole.
        created = Settings(database_url=with_user(with_database(server, "created"), "creator"))
        assert await migrate_database(created) == [m.version for m in shipped_migrations()]
    finally:
        stop_database(settings)
