"""The PostgreSQL a benchmark runs on: CITYCERT_DATABASE_URL's server (its databases created and
dropped again) or a throw-away embedded one, removed with its data at the end.

For measuring only: CITYCERT_BENCH_PG_SETTINGS, `name=value` pairs separated by `;`, is written
into the embedded server's configuration (ALTER SYSTEM) and the server restarted before the bench
runs, e.g. `shared_preload_libraries=pg_stat_statements;pg_stat_statements.track=all` to see
which statement inside eventstore_append costs what. Unset (the default), the server runs with
the settings production's embedded server has."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import asyncpg

from bench.cpu import postmaster_pid
from runtime.embedded_postgres import discard_server, start_server, with_database

SETTINGS_VARIABLE = "CITYCERT_BENCH_PG_SETTINGS"


def measuring_settings(text: str | None = None) -> dict[str, str]:
    """CITYCERT_BENCH_PG_SETTINGS (or `text`) as {name: value}; empty when unset."""
    text = os.environ.get(SETTINGS_VARIABLE, "") if text is None else text
    pairs = [item.partition("=") for item in text.split(";") if item.strip()]
    return {name.strip(): value.strip() for name, _, value in pairs}


class BenchPostgres:
    def __init__(self, folder: Path | None = None) -> None:
        self.url = os.environ.get("CITYCERT_DATABASE_URL")
        self.folder = folder
        self.own_folder = False
        self.handle: Any = None
        self.created: list[str] = []

    def start(self) -> str:
        if not self.url:
            if self.folder is None:
                self.folder, self.own_folder = Path(tempfile.mkdtemp(prefix="citycert-bench-")), True
            self.handle = start_server(self.folder / "pg", cleanup_mode="delete")
            self.url = str(self.handle.get_uri())
            settings = measuring_settings()
            if settings:
                asyncio.run(self._configure(settings))
                self._restart()
        return self.url

    async def _configure(self, settings: dict[str, str]) -> None:
        assert self.url is not None
        conn = await asyncpg.connect(self.url)
        try:
            for name, value in settings.items():
                # ALTER SYSTEM takes no parameters; the names and values are the operator's own.
                await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        finally:
            await conn.close()

    def _restart(self) -> None:
        """Restart the embedded server with its configuration re-read (pg_ctl keeps the options
        it was started with: socket directory, no TCP)."""
        from runtime.embedded_postgres import _embedded

        embedded = _embedded()
        user = "embedded_postgres" if os.geteuid() == 0 else None
        embedded.pg_ctl(
            ["-w", "-m", "fast", "-l", str(self.handle.log), "restart"], pgdata=self.handle.pgdata, user=user
        )

    def postmaster_pid(self) -> int | None:
        """The embedded server's postmaster (for its CPU); None for CITYCERT_DATABASE_URL's."""
        if self.handle is None or self.folder is None:
            return None
        return postmaster_pid(self.folder / "pg")

    async def _admin(self, sql: str) -> None:
        assert self.url is not None
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def database(self, name: str) -> str:
        """A fresh, empty database `name`; its DSN."""
        assert self.url is not None
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await self._admin(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return with_database(self.url, name)

    async def drop(self, name: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def stop(self) -> None:
        if self.handle is not None:
            await asyncio.to_thread(discard_server, self.handle)
            if self.own_folder and self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
        elif self.url:
            for name in self.created:
                await self.drop(name)
