"""Migrations: numbered SQL files, applied once, safely from two processes at once."""

from __future__ import annotations

import asyncio
import json
import sys

import asyncpg
import pytest

from domain.state import Certification, CityState
from eventstore import EventStore, MigrationError
from eventstore.migrations import Migration, migrate, shipped_migrations
from readmodel import city_registry, city_state, open_city_store
from tests.integration.eventstore.stories import CityRun

ALL = [m.version for m in shipped_migrations()]
_EVENT_ROW = (
    "event_id, stream_id, version, type, schema_version, occurred_at, recorded_at, actor_role, actor_id, "
    "workflow_id, run_id, data, hash"
)


async def test_migrations_are_applied_once_and_recorded(databases):
    dsn = await databases.create()
    conn = await asyncpg.connect(dsn)
    try:
        # Given an empty database, when the store migrates twice,
        assert await migrate(conn) == ALL
        assert await migrate(conn) == []
        # then every migration ran exactly once and is recorded with its checksum.
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == ALL
        assert [r["checksum"] for r in rows] == [m.checksum for m in shipped_migrations()]
    finally:
        await conn.close()


_MIGRATE_IN_A_PROCESS = """
import asyncio, json, sys
import asyncpg
from eventstore.migrations import migrate

async def main():
    conn = await asyncpg.connect(sys.argv[1])
    try:
        print(json.dumps(await migrate(conn)))
    finally:
        await conn.close()

asyncio.run(main())
"""


async def test_two_processes_starting_at_once_apply_each_migration_once(databases):
    dsn = await databases.create()

    async def start_a_process() -> list[int]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _MIGRATE_IN_A_PROCESS, dsn, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        applied: list[int] = json.loads(out)
        return applied

    # When two processes migrate the same empty database at the same time,
    first, second = await asyncio.gather(start_a_process(), start_a_process())
    # then one applied everything and the other found it done (the advisory lock made them take
    # turns), and nothing failed on a half-created table.
    assert sorted([first, second]) == [[], ALL]


async def test_a_migration_edited_after_it_was_applied_is_refused(databases):
    dsn = await databases.create()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        edited = shipped_migrations()
        edited[0] = Migration(edited[0].version, edited[0].name, edited[0].sql + "\n-- tweaked")
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await migrate(conn, edited)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_behind(databases):
    dsn = await databases.create()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        broken = Migration(len(ALL) + 1, "broken", "CREATE TABLE half_done (id int); SELECT 1 / 0;")
        # When a new migration fails halfway,
        with pytest.raises(MigrationError, match="broken failed"):
            await migrate(conn, [*shipped_migrations(), broken])
        # then neither its table nor its record exists, and the lock was released (we can run again).
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert await conn.fetchval("SELECT max(version) FROM schema_migrations") == len(ALL)
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_tokens_sharing_a_name_with_two_cities_are_revoked_by_the_identity_migration(databases):
    # Given tokens made before identities existed: rev-carla twice, from two home cities (the attack
    # on the conflict-of-interest check), rev-ana twice from one, and an operator without a name,
    dsn = await databases.create()
    conn = await asyncpg.connect(dsn)
    try:
        before = [m for m in shipped_migrations() if m.version < 9]
        await migrate(conn, before)
        await conn.executemany(
            "INSERT INTO api_tokens (id, token_hash, role, city_id, name) VALUES ($1, $2, $3, $4, $5)",
            [
                ("tok_carla1", b"1" * 32, "reviewer", "riverton", "rev-carla"),
                ("tok_carla2", b"2" * 32, "reviewer", "lakeside", "rev-carla"),
                ("tok_ana1", b"3" * 32, "reviewer", "riverton", "rev-ana"),
                ("tok_ana2", b"4" * 32, "reviewer", "riverton", "rev-ana"),
                ("tok_ops", b"5" * 32, "operator", None, None),
            ],
        )
        # when the identity migration runs,
        assert await migrate(conn) == [m.version for m in shipped_migrations() if m.version >= 9]
        rows = {
            r["id"]: (r["subject"], r["city_id"], r["revoked_at"] is not None, r["lifetime"].days)
            for r in await conn.fetch(
                "SELECT t.id, t.subject, i.city_id, t.revoked_at, t.expires_at - t.created_at AS lifetime "
                "FROM api_tokens t JOIN token_identities i USING (role, subject)"
            )
        }
    finally:
        await conn.close()
    # then rev-carla's tokens are revoked, each its own identity; rev-ana's two speak for one.
    assert {k: v[:3] for k, v in rows.items()} == {
        "tok_carla1": ("tok_carla1", "riverton", True),
        "tok_carla2": ("tok_carla2", "lakeside", True),
        "tok_ana1": ("rev-ana", "riverton", False),
        "tok_ana2": ("rev-ana", "riverton", False),
        "tok_ops": ("tok_ops", None, False),
    }
    # They expire from now on: 90 days, an operator's 7 (counted from their creation here, just now).
    assert rows["tok_ana1"][3] in (89, 90) and rows["tok_ops"][3] in (6, 7)


async def test_a_store_upgraded_to_snapshots_keeps_each_citys_stored_state_as_its_first(databases):
    # Given a certified city recorded before snapshots (its folded state in city_status.state),
    # (its events recorded by today's store, which needs today's schema, and copied row for row,
    # hashes and times included, into a store at the schema before snapshots),
    source = await databases.create()
    async with await EventStore.connect(source, registry=city_registry()) as events_only:
        await events_only.migrate()
        run = CityRun(events_only, "lakeside")
        await run.register()
        await run.certify()
        async with events_only.connection() as recorded:
            rows = await recorded.fetch(f"SELECT {_EVENT_ROW} FROM events ORDER BY position")
    dsn = await databases.create()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn, [m for m in shipped_migrations() if m.version < 15])
        await conn.executemany(
            f"INSERT INTO events ({_EVENT_ROW}) VALUES ({', '.join(f'${i}' for i in range(1, 14))})",
            [tuple(r) for r in rows],
        )
        state, summary = run.state, run.state.summary()
        await conn.execute(
            "INSERT INTO city_status (city_id, stream_id, version, phase, name, country, level,"
            " open_review_items, updated_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, now(), $8)",
            "lakeside",
            "city-lakeside",
            state.version,
            summary.phase,
            summary.name,
            summary.country,
            summary.level,
            state.model_dump_json(exclude_defaults=True),
        )
        # when the snapshot migration runs,
        assert await migrate(conn) == [m.version for m in shipped_migrations() if m.version >= 15]
        snapshot = await conn.fetchrow("SELECT version, state FROM state_snapshots")
        status = await conn.fetchrow("SELECT certification, ended_certifications FROM city_status")
    finally:
        await conn.close()
    # then the stored state is the city's snapshot at its version, the certification it holds is
    # a column of its own,
    assert snapshot["version"] == state.version
    assert CityState.model_validate_json(snapshot["state"]) == state
    assert Certification.model_validate_json(status["certification"]) == state.certification
    assert json.loads(status["ended_certifications"]) == []
    # and a store that has never seen the city reads its state from that snapshot.
    async with await open_city_store(dsn) as upgraded:
        assert await city_state(upgraded, "lakeside") == state
