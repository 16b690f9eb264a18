"""Without CITYCERT_DATABASE_URL the project runs its own PostgreSQL, and reuses it next time."""

from __future__ import annotations

import asyncpg

from runtime.embedded_postgres import ensure_database, stop_database
from runtime.settings import Settings


async def test_a_configured_database_url_is_used_as_it_is(tmp_path):
    settings = Settings(database_url="postgresql://app@db.example.org/citycert", data_dir=tmp_path)

    assert await ensure_database(settings) == "postgresql://app@db.example.org/citycert"
    assert not (tmp_path / "pg").exists()  # no server of our own was started
    assert stop_database(settings) is False  # and an external server is never stopped


async def test_without_a_url_an_embedded_server_is_started_then_reused(folder):
    settings = Settings(database_url=None, data_dir=folder / "citycert")
    try:
        # First start: the server is created under the data folder, with a citycert database.
        dsn = await ensure_database(settings)
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT current_database()") == "citycert"
            await conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
        finally:
            await conn.close()
        assert (settings.pgdata / "PG_VERSION").exists()

        # Next start (another process would do the same): the running server and its data are reused.
        assert await ensure_database(settings) == dsn
        # After a stop, a start brings the same data back.
        assert stop_database(settings) is True
        dsn = await ensure_database(settings)
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SELECT n FROM kept") == 42
        finally:
            await conn.close()
    finally:
        stop_database(settings)
    assert stop_database(settings) is False
