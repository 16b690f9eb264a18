"""State snapshots: an append writes the city's folded state only at some versions (every
SNAPSHOT_EVERY events and at a cycle's boundaries); a store without the state cached folds the events
after the latest snapshot; verify checks each snapshot against a fold up to its version; rebuild
refills them; a store with none (upgraded) folds the stream."""

from __future__ import annotations

import json
from typing import Any

from domain import events as ev
from eventstore import EventStore, ProjectionMismatch
from readmodel import city_state, open_city_store
from readmodel.projector import SNAPSHOT_EVERY
from tests.integration.eventstore.stories import CRITERIA, CityRun, evidence


async def snapshots(store: EventStore) -> list[tuple[int, dict[str, Any]]]:
    async with store.connection() as conn:
        rows = await conn.fetch("SELECT version, state FROM state_snapshots ORDER BY version")
    return [(r["version"], json.loads(r["state"])) for r in rows]


async def certified(store: EventStore) -> CityRun:
    run = CityRun(store, "lakeside")
    await run.register()
    await run.certify()
    return run


async def test_snapshots_are_taken_every_n_events_and_at_the_cycle_boundaries(store):
    # Given a city certified through the store,
    run = await certified(store)
    events = await store.read_stream("city-lakeside")
    # then its snapshots are at each multiple of SNAPSHOT_EVERY and after each event that opened
    # or decided a cycle, and no others,
    boundaries = {ev.ApplicationSubmitted.__name__, ev.CertificationAwarded.__name__}
    expected = sorted({e.version for e in events if e.version % SNAPSHOT_EVERY == 0 or e.type in boundaries})
    taken = await snapshots(store)
    assert [version for version, _ in taken] == expected
    assert run.state.version > SNAPSHOT_EVERY, "the story is long enough to reach one every N events"
    # each holding the state folded to its version.
    for version, state in taken:
        assert state["version"] == version


async def test_a_store_without_the_state_cached_starts_from_the_latest_snapshot(store, database_url):
    # Given a certified city whose latest snapshot was edited behind the store's back,
    run = await certified(store)
    latest, state = (await snapshots(store))[-1]
    state["name"] = "Not From The Log"
    async with store.connection() as conn:
        await conn.execute(
            "UPDATE state_snapshots SET state = $1 WHERE city_id = 'lakeside' AND version = $2",
            json.dumps(state),
            latest,
        )
    # when a store that has not seen the city reads its state,
    cold = await open_city_store(database_url)
    try:
        read = await city_state(cold, "lakeside")
    finally:
        await cold.close()
    # then it folded the events after the snapshot onto the snapshot (the edit shows through),
    assert read is not None
    assert read.name == "Not From The Log"
    assert read.version == run.state.version
    assert read.model_copy(update={"name": run.state.name}) == run.state
    # and verify reports the snapshot that disagrees with the log, and nothing else.
    report = await store.verify()
    assert report.projection_mismatches == [
        ProjectionMismatch("state_snapshots", ("lakeside", latest), "differs in state")
    ]


async def test_a_city_without_snapshots_is_folded_from_its_stream_and_verifies(store, database_url):
    # Given a city with no snapshot at all (a store upgraded from before them, or emptied),
    run = CityRun(store, "lakeside")
    await run.register()
    await run.apply()
    await run.do(evidence(CRITERIA[:3]))
    async with store.connection() as conn:
        await conn.execute("DELETE FROM state_snapshots")
    assert (await store.verify()).ok, "a snapshot never taken is not missing"
    # when a store that has not seen the city appends to it,
    cold = await open_city_store(database_url)
    try:
        run.store = cold
        await run.do(evidence(CRITERIA[3:6]))
        # then it folded the whole stream to the right state
        assert await city_state(cold, "lakeside") == run.state
    finally:
        await cold.close()
    assert (await store.verify()).ok


async def test_rebuild_refills_the_snapshots(store):
    # Given a certified city whose snapshots were lost, and one made up past the stream's end,
    run = await certified(store)
    taken = await snapshots(store)
    async with store.connection() as conn:
        await conn.execute("DELETE FROM state_snapshots")
        await conn.execute(
            "INSERT INTO state_snapshots VALUES ('lakeside', $1, $2)",
            run.state.version + 1,
            json.dumps(taken[-1][1]),
        )
    report = await store.verify()
    assert report.projection_mismatches == [
        ProjectionMismatch(
            "state_snapshots", ("lakeside", run.state.version + 1), "row not backed by the log"
        )
    ]
    # when the projections are rebuilt,
    await store.rebuild_projections()
    # then the snapshots are those the appends took, and verify finds nothing wrong.
    assert await snapshots(store) == taken
    assert (await store.verify()).ok
