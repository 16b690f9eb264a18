"""The state the command service decides on is read through the store's snapshots (the latest one
and the events after it), not folded from a city's first event: on a long stream it is the same
state, and what is decided on it the same."""

from __future__ import annotations

import json

import pytest

from app import errors
from app.commands import _refusal_now, _state_now, check_registration
from domain import ProgrammePolicy
from domain import commands as cmd
from eventstore import EventStore
from readmodel import load_city_state, open_city_store
from readmodel.projector import SNAPSHOT_EVERY
from tests.integration.eventstore.stories import CityRun

AGAIN = cmd.RegisterCity(city_id="lakeside", name="Lakeside", country="US", population=150_000)


async def certified(store: EventStore) -> CityRun:
    run = CityRun(store, "lakeside")
    await run.register()
    await run.certify()
    assert run.state.version > SNAPSHOT_EVERY, "the stream is longer than the snapshots' interval"
    return run


async def test_a_command_on_a_long_stream_is_decided_on_the_state_a_whole_fold_gives(
    store: EventStore, database_url: str
) -> None:
    # Given a certified city with a long stream, and a store that has never seen it (another
    # process's: nothing cached),
    run = await certified(store)
    cold = await open_city_store(database_url)
    try:
        # when the command service reads the city's state and decides a registration of it again,
        read = await _state_now(cold, "lakeside")
        with pytest.raises(errors.Refused) as refused:
            await check_registration(cold, AGAIN, ProgrammePolicy())
        # then it read the state a fold from the first event gives, and refused as the domain does.
        assert read == await load_city_state(cold, "lakeside") == run.state
        on_whole_fold = _refusal_now(run.state, AGAIN, ProgrammePolicy())
        assert on_whole_fold is not None
        assert str(refused.value) == str(on_whole_fold)
    finally:
        await cold.close()


async def test_the_command_service_starts_from_the_latest_snapshot(
    store: EventStore, database_url: str
) -> None:
    # Given a certified city whose latest snapshot was edited behind the store's back (a read
    # through the snapshot shows the edit, a fold from the first event would not),
    run = await certified(store)
    async with store.connection() as conn:
        latest = await conn.fetchrow(
            "SELECT version, state FROM state_snapshots WHERE city_id = 'lakeside' "
            "ORDER BY version DESC LIMIT 1"
        )
        assert latest is not None
        state = json.loads(latest["state"])
        state["name"] = "Not From The Log"
        await conn.execute(
            "UPDATE state_snapshots SET state = $1 WHERE city_id = 'lakeside' AND version = $2",
            json.dumps(state),
            latest["version"],
        )
    # when a store that has not seen the city gives the command service its state,
    cold = await open_city_store(database_url)
    try:
        read = await _state_now(cold, "lakeside")
    finally:
        await cold.close()
    # then that state is the snapshot's, with the events after it folded on.
    assert read.name == "Not From The Log"
    assert read.model_copy(update={"name": run.state.name}) == run.state


async def test_an_unregistered_city_reads_as_the_initial_state(store: EventStore) -> None:
    # Given no events for a city, when the command service reads its state, then it is at version 0
    # (what its callers take for "unknown city").
    read = await _state_now(store, "nowhere")
    assert read.version == 0
    assert read.city_id == "nowhere"
