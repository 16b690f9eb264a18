"""The PostgreSQL a benchmark runs on: CITYCERT_DATABASE_URL's server (its databases created and
dropped again) or a throw-away embedded one, removed with its data at the end."""

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
        return self.url

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
