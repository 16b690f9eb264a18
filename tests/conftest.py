"""Session fixtures: one real PostgreSQL for the whole run, a fresh database per test.

With CITYCERT_DATABASE_URL set, tests use that server (they create and drop their own databases
on it, so the role needs CREATEDB). Otherwise one embedded server is started in a temporary
directory and deleted at the end. No test fakes the database.

A migrated template database is built once; each test that wants a store gets
`CREATE DATABASE ... TEMPLATE` of it, which is much faster than migrating again.

Under pytest-xdist (`make test` runs `-n auto --dist loadfile`) each worker process has its own
server and template, and a test file's tests all run on one worker, in their order: a module-scoped
fixture (a server, a `citycert dev`) is started once, and the OpenAPI tests share their drawn cases.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import routing as fastapi_routing

from eventstore import EventStore
from eventstore.migrations import migrate
from readmodel import open_city_store
from runtime.embedded_postgres import discard_server, start_server, with_database

TERMINAL_SIZE_ENV = ("COLUMNS", "LINES")


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: none without it
def pytest_configure_node(node: Any) -> None:
    """(pytest-xdist, in the controller) What the terminal's size variables are here."""
    node.workerinput["terminal_size_env"] = {name: os.environ.get(name) for name in TERMINAL_SIZE_ENV}


def pytest_configure(config: pytest.Config) -> None:
    # A worker is started with COLUMNS and LINES of its own (80x24); Rich sizes the CLI's tables
    # by them, so a worker's tests would see narrower tables than the same tests in one process.
    given = getattr(config, "workerinput", {}).get("terminal_size_env")
    for name, value in (given or {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _build_each_included_route_once() -> None:
    """Most tests make an app of their own (entrypoints.http.create_app: their own store, client
    and settings), and FastAPI builds an included router's routes (dependants, body and response
    models, handlers) again for every app, on its first request: about a third of the CPU of the
    HTTP and portal tests. What it builds depends only on the route and how its router is included,
    never on the app, but for the app's dependency_overrides, which nothing here sets: so a route is
    built once per process and inclusion. An app that has overrides gets its routes built as
    FastAPI does, for itself alone. A test-only shortcut; the app built is the same."""
    built: dict[int, list[tuple[Any, Any, Any]]] = {}  # route id: (route, inclusion, built route)
    build = fastapi_routing._EffectiveRouteContext.from_api_route

    def from_api_route(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        provider = include_context.dependency_overrides_provider
        if getattr(provider, "dependency_overrides", None):
            return build(original_route=original_route, include_context=include_context)
        inclusion = dataclasses.replace(include_context, dependency_overrides_provider=None)
        for route, included, context in built.get(id(original_route), ()):
            if route is original_route and included == inclusion:
                return context
        context = build(original_route=original_route, include_context=inclusion)
        built.setdefault(id(original_route), []).append((original_route, inclusion, context))
        return context

    fastapi_routing._EffectiveRouteContext.from_api_route = classmethod(from_api_route)  # type: ignore[method-assign,assignment]


_build_each_included_route_once()


class Databases:
    """Creates throw-away databases on the test server and drops them at the end of the session."""

    def __init__(self, server_dsn: str) -> None:
        self.server_dsn = server_dsn
        self.created: list[str] = []
        self._template: str | None = None

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create(self, *, template: str | None = None) -> str:
        """A new empty (or templated) database; returns its DSN."""
        return with_database(self.server_dsn, await self._create(template))

    async def _create(self, template: str | None) -> str:
        name = f"citycert_test_{uuid.uuid4().hex[:12]}"
        await self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return name

    async def migrated(self) -> str:
        """A new database with every migration applied."""
        if self._template is None:
            name = await self._create(None)
            conn = await asyncpg.connect(with_database(self.server_dsn, name))
            try:
                await migrate(conn)
            finally:
                await conn.close()
            self._template = name
        return await self.create(template=self._template)

    async def drop_all(self) -> None:
        for name in reversed(self.created):
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def folder() -> Iterator[Path]:
    """A scratch folder for an embedded server of a test's own. Not pytest's tmp_path: its root
    (/tmp/pytest-of-<user>) is 0700 and closed again by every pytest session that starts, so the
    server's system user (when run as root) could lose its way to its data mid-test."""
    path = Path(tempfile.mkdtemp(prefix="citycert-data-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
async def postgres_server_dsn() -> AsyncIterator[str]:
    """DSN of the PostgreSQL server for this test run (its maintenance database)."""
    url = os.environ.get("CITYCERT_DATABASE_URL")
    if url:
        yield url
        return
    folder = tempfile.mkdtemp(prefix="citycert-pg-")
    server = await asyncio.to_thread(start_server, Path(folder) / "pg", cleanup_mode="delete")
    dsn: str = server.get_uri()
    try:
        # A throw-away server: no test is about surviving a power cut, and without fsync each
        # CREATE DATABASE (a template copy) and each commit costs far less.
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("ALTER SYSTEM SET fsync = off")
            await conn.execute("ALTER SYSTEM SET synchronous_commit = off")
            await conn.execute("ALTER SYSTEM SET full_page_writes = off")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()
        yield dsn
    finally:
        await asyncio.to_thread(discard_server, server)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
async def databases(postgres_server_dsn: str) -> AsyncIterator[Databases]:
    dbs = Databases(postgres_server_dsn)
    yield dbs
    if os.environ.get("CITYCERT_DATABASE_URL"):
        # On a server we do not own, clean up; the embedded one is deleted whole (faster than
        # dropping each database, which checkpoints).
        await dbs.drop_all()


@pytest.fixture
async def database_url(databases: Databases) -> str:
    """A fresh, migrated database for this test alone."""
    return await databases.migrated()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    """The city programme's event store (domain registry, city projector) on a fresh migrated database."""
    event_store = await open_city_store(database_url, min_size=1, max_size=10)
    try:
        yield event_store
    finally:
        await event_store.close()
