"""verify: broken hash chains, version gaps and projection rows that differ from a fresh fold."""

from __future__ import annotations

from contextlib import asynccontextmanager

from eventstore import EventStore, ProjectionMismatch, StreamProblem
from tests.integration.eventstore.stories import CityRun


@asynccontextmanager
async def behind_the_stores_back(store: EventStore):
    """A connection with the append-only trigger off, as someone with table rights could do."""
    async with store.connection() as conn:
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
        try:
            yield conn
        finally:
            await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


async def certified_city(store: EventStore, city: str = "lakeside") -> CityRun:
    run = CityRun(store, city)
    await run.register()
    await run.certify()
    return run


async def test_an_untouched_store_verifies_clean(store):
    run = await certified_city(store)
    await certified_city(store, "hillcrest")

    report = await store.verify()

    assert report.ok, report.lines()
    assert (report.streams, report.events) == (2, 2 * run.state.version)


async def test_an_event_edited_behind_the_stores_back_is_caught_at_that_event(store):
    await certified_city(store)
    async with behind_the_stores_back(store) as conn:
        await conn.execute(
            "UPDATE events SET data = jsonb_set(data, '{population}', '999999')"
            " WHERE stream_id = 'city-lakeside' AND version = 1"
        )

    report = await store.verify()

    assert not report.ok
    assert report.broken_chains == [StreamProblem("city-lakeside", 1, report.broken_chains[0].detail)]
    # The fold now disagrees with every state snapshot taken since the true event (population is
    # in no column of city_status, so only the snapshots hold it).
    async with store.connection() as conn:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM state_snapshots ORDER BY 1")]
    assert versions, "the certified city has snapshots"
    assert report.projection_mismatches == [
        ProjectionMismatch("state_snapshots", ("lakeside", v), "differs in state") for v in versions
    ]


async def test_a_recorded_at_moved_behind_the_stores_back_breaks_the_chain(store):
    await certified_city(store)
    async with behind_the_stores_back(store) as conn:
        await conn.execute(
            "UPDATE events SET recorded_at = recorded_at - interval '1 day'"
            " WHERE stream_id = 'city-lakeside' AND version = 3"
        )

    report = await store.verify()

    assert [(p.stream_id, p.version) for p in report.broken_chains] == [("city-lakeside", 3)]


async def test_a_deleted_event_shows_as_a_version_gap_and_a_broken_link(store):
    await certified_city(store)
    async with behind_the_stores_back(store) as conn:
        await conn.execute("DELETE FROM events WHERE stream_id = 'city-lakeside' AND version = 2")

    report = await store.verify()

    assert [(p.stream_id, p.version) for p in report.version_gaps] == [("city-lakeside", 3)]
    assert "expected v2" in report.version_gaps[0].detail
    # Event 3 was chained to the hash of the deleted event 2.
    assert [(p.stream_id, p.version) for p in report.broken_chains] == [("city-lakeside", 3)]


async def test_projection_rows_edited_by_hand_are_reported_and_a_rebuild_repairs_them(store):
    run = await certified_city(store)
    award = run.state.version  # the award is the city's last event
    async with store.connection() as conn:
        await conn.execute("UPDATE city_status SET level = 'platinum'")
        await conn.execute("UPDATE certifications SET outcome = 'elevated'")
        await conn.execute(
            "INSERT INTO review_queue"
            " VALUES ('lakeside', 'DM9', 'x', NULL, 'submitted', 'reviewer', NULL, false)"
        )

    report = await store.verify()

    assert report.broken_chains == [] and report.version_gaps == []
    assert (
        ProjectionMismatch("city_status", ("lakeside",), "differs in level") in report.projection_mismatches
    )
    assert ProjectionMismatch("certifications", ("lakeside", award), "differs in outcome") in (
        report.projection_mismatches
    )
    assert ProjectionMismatch("review_queue", ("lakeside", "DM9"), "row not backed by the log") in (
        report.projection_mismatches
    )

    await store.rebuild_projections()
    assert (await store.verify()).ok
