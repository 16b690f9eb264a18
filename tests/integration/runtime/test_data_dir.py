"""The dev data directory is private (0700), and the embedded PostgreSQL inside it still starts,
stops and starts again, also when run as root (the server then runs as another system user)."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

from runtime.embedded_postgres import ensure_database, stop_database
from runtime.settings import Settings, prepare_data_dir


async def test_the_data_dir_is_private_and_postgres_runs_inside_it(folder: Path) -> None:
    # Given a data dir made by `citycert dev`,
    settings = prepare_data_dir(Settings(database_url=None, data_dir=folder / "citycert"))
    assert settings.data_dir.stat().st_mode & 0o777 == 0o700
    try:
        # when the embedded server starts in it, stops, and starts again,
        await _answers(await ensure_database(settings))
        assert stop_database(settings) is True
        dsn = await ensure_database(settings)

        # then it answers (on a socket only its owner may use), and the data dir is still closed
        # to every other user of the machine.
        await _answers(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SHOW unix_socket_permissions") == "0700"
        finally:
            await conn.close()
        assert settings.data_dir.stat().st_mode & 0o777 == 0o700
        if os.geteuid() == 0:  # the server's system user enters it as its owner
            assert settings.data_dir.stat().st_uid == (settings.pgdata.stat().st_uid)
    finally:
        stop_database(settings)


async def test_an_existing_open_data_dir_is_closed_on_the_next_start(folder: Path) -> None:
    data_dir = folder / "citycert"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    prepared = prepare_data_dir(Settings(data_dir=data_dir))
    assert prepared.data_dir.stat().st_mode & 0o777 == 0o700


async def _answers(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
