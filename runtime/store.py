"""Opening the event store the one way every citycert process does: the configured PostgreSQL, or
the embedded server under the data directory when CITYCERT_DATABASE_URL is unset; migrated, with
the city read model kept in each append's transaction."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import structlog

from eventstore import EventStore
from readmodel import open_city_store
from runtime.embedded_postgres import ensure_database, stop_database
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


@asynccontextmanager
async def open_store(
    settings: Settings, *, stop_embedded_we_started: bool = False, max_connections: int | None = None
) -> AsyncIterator[EventStore]:
    """A migrated event store for these settings. With `stop_embedded_we_started`, the embedded
    server is stopped on the way out if this call started it (long-running processes); one-shot
    commands leave it running for the next. A StartupError names the setting to change."""
    async with AsyncExitStack() as stack:
        was_running = embedded_postgres_running(settings.pgdata)
        try:
            dsn = await ensure_database(settings)
        except Exception as e:
            if settings.database_url:
                raise StartupError(
                    f"cannot reach PostgreSQL at {env_name('database_url')}: {e}; check that setting"
                ) from e
            raise StartupError(
                f"cannot start the embedded PostgreSQL in {settings.pgdata}: {e}; set "
                f"{env_name('data_dir')} elsewhere or {env_name('database_url')} to a server"
            ) from e
        if stop_embedded_we_started and settings.database_url is None and not was_running:
            stack.push_async_callback(asyncio.to_thread, _stop_database, settings)
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
        await store.migrate()
        yield store


def _stop_database(settings: Settings) -> None:
    stopped = stop_database(settings)
    log.info("postgres_stopped" if stopped else "postgres_not_running", pgdata=str(settings.pgdata))
