"""The database cannot rewrite history: connected as the runtime role (a login in the
citycert_runtime group, as every citycert process is), each way of changing the log is refused,
while appends, reads, rebuild and verify work as before (migration 0008)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from app.tokens import create_token, list_tokens, revoke_token, rotate_token, verify_token
from eventstore import EventStore
from readmodel import CityProjector, city_registry, open_city_store
from readmodel.queries import (
    city_summary,
    expiring_certifications,
    list_cities,
    review_queue,
    round_decisions,
)
from runtime.embedded_postgres import RUNTIME_LOGIN, ensure_runtime_login
from tests.integration.eventstore.stories import CityRun

ATTACKS = {
    "disable the append-only trigger": "ALTER TABLE events DISABLE TRIGGER events_append_only",
    "drop the append-only trigger": "DROP TRIGGER events_append_only ON events",
    "edit an event": "UPDATE events SET data = '{}' WHERE version = 1",
    "delete an event": "DELETE FROM events WHERE version = 2",
    "truncate the log": "TRUNCATE events",
    "insert an event directly": (
        "INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, recorded_at,"
        " actor_role, actor_id, data, hash)"
        " SELECT gen_random_uuid(), stream_id, 99, type, schema_version, occurred_at, recorded_at,"
        " actor_role, actor_id, data, hash FROM events WHERE version = 1"
    ),
    "replace the append function": (
        "CREATE OR REPLACE FUNCTION eventstore_append(p_stream_id text, p_expected bigint,"
        " p_events new_event[])"
        " RETURNS TABLE (outcome text, actual_version bigint, positions bigint[])"
        " LANGUAGE sql AS $$ SELECT 'appended', 0::bigint, '{}'::bigint[] $$"
    ),
    "take the table over": f"ALTER TABLE events OWNER TO {RUNTIME_LOGIN}",
    "plant a function in the schema": (
        "CREATE FUNCTION public.sha256(bytea) RETURNS bytea LANGUAGE sql AS 'SELECT $1'"
    ),
}


@pytest.fixture
async def runtime_url(database_url: str) -> str:
    """The test's database as the embedded default's login in the runtime group."""
    return await ensure_runtime_login(database_url)


@pytest.fixture
async def runtime_store(runtime_url: str) -> AsyncIterator[EventStore]:
    store = await open_city_store(runtime_url, min_size=1, max_size=4)
    try:
        yield store
    finally:
        await store.close()


async def history(store: EventStore) -> list[tuple[object, ...]]:
    async with store.connection() as conn:
        rows = await conn.fetch("SELECT stream_id, version, type, data, hash FROM events ORDER BY position")
    return [tuple(r) for r in rows]


async def test_the_runtime_role_appends_reads_rebuilds_and_verifies(runtime_store):
    # Given a city certified through a store connected as the runtime role,
    run = CityRun(runtime_store, "lakeside")
    await run.register()
    await run.certify()
    async with runtime_store.connection() as conn:
        assert await conn.fetchval("SELECT current_user") == RUNTIME_LOGIN

    # then its stream reads back whole,
    events = await runtime_store.read_stream(run.stream_id)
    assert len(events) == run.state.version
    assert len((await runtime_store.read_all()).events) == run.state.version
    # the projections rebuild from the log, and verify finds everything in order.
    rebuilt = await runtime_store.rebuild_projections()
    assert (rebuilt.streams, rebuilt.events) == (1, run.state.version)
    report = await runtime_store.verify()
    assert report.ok, report.lines()


async def test_the_runtime_role_serves_the_api_s_reads_and_its_tokens(runtime_store):
    # Given a certified city recorded by the runtime role,
    run = CityRun(runtime_store, "lakeside")
    await run.register()
    await run.certify()
    # then the read model answers (the city, a round's decisions, the review queue, expiries),
    assert (await city_summary(runtime_store, "lakeside")) is not None
    assert [c.city_id for c in await list_cities(runtime_store)] == ["lakeside"]
    decided = await round_decisions(runtime_store, ["2026-spring"])
    assert [(d.city_id, d.outcome) for d in decided] == [("lakeside", "new")]  # the certifications table
    await review_queue(runtime_store, limit=10)
    await expiring_certifications(runtime_store, now=run.now, within_days=4000)
    # and a reviewer's token is created, recognised (its last use stamped), listed, rotated and
    # the new one revoked.
    secret = await create_token(runtime_store, "reviewer", city="riverton", name="rev-ana")
    token = await verify_token(runtime_store, secret)
    assert token is not None and token.city_id == "riverton"
    [listed] = await list_tokens(runtime_store)
    assert listed.id == token.id and listed.last_used_at is not None
    rotated = await rotate_token(runtime_store, token.id)
    assert await verify_token(runtime_store, secret) is None
    assert await revoke_token(runtime_store, rotated.info.id)
    assert await verify_token(runtime_store, rotated.secret) is None


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_the_runtime_role_cannot_rewrite_history(runtime_store, attack):
    # Given a certified city recorded by the runtime role,
    run = CityRun(runtime_store, "lakeside")
    await run.register()
    await run.certify()
    before = await history(runtime_store)

    # when the same role tries to change the log behind the store's back,
    async with runtime_store.connection() as conn:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(ATTACKS[attack])

    # then it is refused for want of rights, not by the trigger, and history is as it was.
    assert await history(runtime_store) == before
    assert (await runtime_store.verify()).ok


async def shadowing_sessions(conn: asyncpg.Connection) -> None:
    """Each session of the pool plants an empty temporary `events`, which its own queries then find
    before the real one (PostgreSQL searches pg_temp first for tables unless told otherwise)."""
    await conn.execute("CREATE TEMP TABLE events (LIKE public.events INCLUDING ALL)")


async def test_a_temporary_table_cannot_stand_in_for_the_log_the_append_writes(runtime_url, runtime_store):
    # Given runtime sessions whose every query on `events` finds their own empty temporary table,
    pool = await asyncpg.create_pool(runtime_url, min_size=1, max_size=2, init=shadowing_sessions)
    shadowed = EventStore(pool, registry=city_registry(), projector=CityProjector())
    try:
        # when they register a city,
        run = CityRun(shadowed, "lakeside")
        await run.register()
        # then the events went to the real log (the append's search_path puts pg_temp last), where
        # every other session reads them, while the shadowing session sees only its own table.
        assert len(await runtime_store.read_stream(run.stream_id)) == run.state.version
        assert await shadowed.read_stream(run.stream_id) == []
        assert (await runtime_store.verify()).ok
    finally:
        await shadowed.close()
