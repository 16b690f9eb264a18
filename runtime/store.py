"""Opening the event store the one way every citycert process does: the configured PostgreSQL, or
the embedded server under the data directory when CITYCERT_DATABASE_URL is unset; migrated, with
the city read model kept in each append's transaction.

Who migrates and who runs (migration 0008 splits the roles):

- CITYCERT_DATABASE_OWNER_URL and CITYCERT_DATABASE_URL: migrations run as the owner, the process
  runs as the runtime role, which can only read the log and append through eventstore_append.
- CITYCERT_DATABASE_URL alone: when its role owns the events table, it migrates and runs as
  before, with a warning (it could disable the append-only trigger); when it is a runtime role, it
  runs if nothing is pending and refuses to start otherwise (`citycert migrate` with the owner).
- neither (the embedded default): migrations run as the embedded superuser, and the process runs
  as the login role `citycert_app` in the runtime group.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import asyncpg
import structlog

from eventstore import EventStore, MigrationError
from eventstore.migrations import holds_event_log, migrate, pending_migrations
from readmodel import open_city_store
from runtime.embedded_postgres import ensure_database, ensure_runtime_login, stop_database
from runtime.process import StartupError
from runtime.settings import Settings, env_name

log = structlog.get_logger("citycert.runtime")


def embedded_postgres_running(pgdata: Path) -> bool:
    """Whether a postmaster runs for this data folder (its postmaster.pid names a live process)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by the embedded_postgres user
        return True
    return True


async def _migrate_as_owner(owner_dsn: str, setting: str) -> list[int]:
    """Apply the pending migrations on a connection of the schema's owner."""
    try:
        conn = await asyncpg.connect(owner_dsn)
    except Exception as e:
        raise StartupError(f"cannot reach PostgreSQL at {setting}: {e}; check that setting") from e
    try:
        return await migrate(conn)
    except MigrationError as e:
        raise StartupError(f"{e}; check that {setting} names the role that owns the schema") from e
    finally:
        await conn.close()


async def migrate_database(settings: Settings) -> list[int]:
    """Apply the pending migrations with the owner of these settings (`citycert migrate`): the owner
    URL, else the database URL, else the embedded superuser. Returns the versions applied."""
    if settings.database_owner_url:
        return await _migrate_as_owner(settings.database_owner_url, env_name("database_owner_url"))
    owner_dsn = await _reach_database(settings)
    setting = env_name("database_url") if settings.database_url else "the embedded PostgreSQL"
    applied = await _migrate_as_owner(owner_dsn, setting)
    if not settings.database_url:
        await ensure_runtime_login(owner_dsn)
    return applied


async def _reach_database(settings: Settings) -> str:
    try:
        return await ensure_database(settings)
    except Exception as e:
        if settings.database_url:
            raise StartupError(
                f"cannot reach PostgreSQL at {env_name('database_url')}: {e}; check that setting"
            ) from e
        raise StartupError(
            f"cannot start the embedded PostgreSQL in {settings.pgdata}: {e}; set "
            f"{env_name('data_dir')} elsewhere or {env_name('database_url')} to a server"
        ) from e


async def _runtime_dsn(settings: Settings) -> str:
    """Migrate if this process holds the owner, and return the DSN the process runs with."""
    dsn = await _reach_database(settings)
    if settings.database_owner_url:
        await _migrate_as_owner(settings.database_owner_url, env_name("database_owner_url"))
        return dsn
    if settings.database_url is None:  # the embedded server: we are its superuser
        await _migrate_as_owner(dsn, "the embedded PostgreSQL")
        return await ensure_runtime_login(dsn)
    return dsn  # the runtime's own URL: _ready decides whether it may migrate


async def _ready(store: EventStore, settings: Settings) -> None:
    """Refuse to run on a database that lacks migrations we cannot apply; migrate (and warn) when
    the runtime's role is the owner; warn when the runtime could rewrite history."""
    try:
        async with store.connection() as conn:
            owner = await holds_event_log(conn)
            if owner is None:  # an empty database: ours to migrate if we may create tables in it
                owner = bool(await conn.fetchval("SELECT has_schema_privilege(current_schema(), 'CREATE')"))
            if owner and not settings.database_owner_url and settings.database_url:
                await migrate(conn)
            pending = await pending_migrations(conn)
    except MigrationError as e:
        raise StartupError(
            f"{e}; check {env_name('database_url')}, or run `citycert migrate` with "
            f"{env_name('database_owner_url')} set"
        ) from e
    if pending:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
        raise StartupError(
            f"the database lacks migrations {names} and this process may not apply them (the role of "
            f"{env_name('database_url')} does not own the schema): run `citycert migrate` with "
            f"{env_name('database_owner_url')} set, or set it for this process"
        )
    if owner:
        log.warning(
            "history_protected_by_trigger_only",
            reason=f"the role of {env_name('database_url')} owns the events table and could disable "
            "its append-only trigger",
            fix=f"run with a role in the citycert_runtime group and set {env_name('database_owner_url')} "
            "to the owner (README: the database's roles)",
        )


@asynccontextmanager
async def open_store(
    settings: Settings, *, stop_embedded_we_started: bool = False, max_connections: int | None = None
) -> AsyncIterator[EventStore]:
    """A migrated event store for these settings, connected as the runtime role (see the module's
    doc). With `stop_embedded_we_started`, the embedded server is stopped on the way out if this
    call started it (long-running processes); one-shot commands leave it running for the next. A
    StartupError names the setting to change."""
    async with AsyncExitStack() as stack:
        was_running = embedded_postgres_running(settings.pgdata)
        if stop_embedded_we_started and settings.database_url is None and not was_running:
            stack.push_async_callback(asyncio.to_thread, _stop_database, settings)
        dsn = await _runtime_dsn(settings)
        try:
            store = await (
                open_city_store(dsn)
                if max_connections is None
                else open_city_store(dsn, min_size=1, max_size=max_connections)
            )
        except Exception as e:
            raise StartupError(
                f"cannot connect to the event store: {e}; check {env_name('database_url')}"
            ) from e
        stack.push_async_callback(store.close)
        await _ready(store, settings)
        yield store


def _stop_database(settings: Settings) -> None:
    stopped = stop_database(settings)
    log.info("postgres_stopped" if stopped else "postgres_not_running", pgdata=str(settings.pgdata))
