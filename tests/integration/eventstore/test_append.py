"""append: one transaction, optimistic concurrency, idempotent by event id, append-only."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import uuid
from datetime import datetime, timedelta

import asyncpg
import pytest

from eventstore import (
    Actor,
    ConcurrencyConflict,
    Correlation,
    DuplicateEventConflict,
    EmptyBatch,
    EventStore,
    InvalidEnvelope,
    InvalidEventPayload,
    InvalidExpectedVersion,
    NewEvent,
    StoreUnavailable,
    UnknownEventType,
)
from eventstore.hashing import GENESIS, canonical_json, chain_hash, event_body
from tests.integration.eventstore.events import ACTOR, AT, TEST_REGISTRY, ping, pings


async def count_events(store: EventStore) -> int:
    async with store.connection() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM events"))


async def test_appended_events_read_back_in_order_with_their_envelope(generic_store):
    first = ping(1, note="hello")
    result = await generic_store.append("sensor-1", 0, [first, ping(2)])

    assert result.versions == (1, 2)
    assert result.version == 2
    assert not result.replayed
    events = await generic_store.read_stream("sensor-1")
    assert [e.version for e in events] == [1, 2]
    assert [e.position for e in events] == list(result.positions)
    e = events[0]
    assert (e.event_id, e.stream_id, e.type, e.schema_version) == (first.event_id, "sensor-1", "Pinged", 1)
    assert e.data == {"n": 1, "note": "hello"}
    assert e.occurred_at == AT  # from the workflow
    assert e.recorded_at.tzinfo is not None  # from the database
    assert e.actor == ACTOR
    assert e.correlation == Correlation("wf-1", "run-1")
    assert await generic_store.stream_version("sensor-1") == 2
    assert [e.version for e in await generic_store.read_stream("sensor-1", from_version=2)] == [2]


async def test_a_stale_expected_version_is_a_conflict_naming_the_actual_version(generic_store):
    await generic_store.append("sensor-1", 0, pings(1, 2))

    # Two workflows read version 0; the second to write is told where the stream really is.
    with pytest.raises(ConcurrencyConflict) as caught:
        await generic_store.append("sensor-1", 0, pings(3))
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == ("sensor-1", 0, 2)
    # An expected version from the future is just as wrong.
    with pytest.raises(ConcurrencyConflict) as ahead:
        await generic_store.append("sensor-1", 5, pings(3))
    assert ahead.value.actual == 2
    assert await count_events(generic_store) == 2


async def test_of_many_concurrent_appends_at_one_version_exactly_one_wins(generic_store):
    outcomes = await asyncio.gather(
        *(generic_store.append("sensor-1", 0, pings(n)) for n in range(10)), return_exceptions=True
    )

    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert len(winners) == 1
    assert len(conflicts) == 9
    assert all(c.actual == 1 for c in conflicts)
    assert await count_events(generic_store) == 1


async def test_the_same_event_ids_again_return_the_original_positions(generic_store):
    batch = pings(1, 2)
    original = await generic_store.append("sensor-1", 0, batch)
    await generic_store.append("sensor-1", 2, pings(3))

    # An activity retried after its first attempt committed sends the same ids (and the version
    # it expected then): it gets the first attempt's result, and nothing is written twice.
    again = await generic_store.append("sensor-1", 0, batch)

    assert again.replayed
    assert (again.versions, again.positions) == (original.versions, original.positions)
    assert await count_events(generic_store) == 3


async def test_a_known_event_id_with_other_content_is_refused(generic_store):
    original = ping(1)
    await generic_store.append("sensor-1", 0, [original])

    changed = dataclasses.replace(original, data={"n": 2, "note": ""})
    with pytest.raises(DuplicateEventConflict, match="data differs") as caught:
        await generic_store.append("sensor-1", 0, [changed])
    assert caught.value.event_id == original.event_id
    # The same at the current version (the insert itself meets the recorded id).
    with pytest.raises(DuplicateEventConflict, match="data differs"):
        await generic_store.append("sensor-1", 1, [changed])
    other_actor = dataclasses.replace(original, actor=Actor("reviewer", "rev-9"))
    with pytest.raises(DuplicateEventConflict, match="actor differs"):
        await generic_store.append("sensor-1", 0, [other_actor])
    assert await count_events(generic_store) == 1


async def test_a_decision_taken_again_later_adopts_the_recorded_events_when_asked(generic_store):
    """A workflow task retried after its worker died mid-record decides the same command again at
    a later moment: same ids, other times. The first decision stands and comes back to fold."""
    first = ping(1, note="due 2026-05-14")
    await generic_store.append("sensor-1", 0, [first])
    again = dataclasses.replace(
        first, occurred_at=first.occurred_at + timedelta(seconds=12), data={"n": 1, "note": "due 2026-05-15"}
    )

    result = await generic_store.append("sensor-1", 0, [again], adopt_redecided=True)

    assert result.replayed and result.versions == (1,)
    assert [(a.type, a.data) for a in result.adopted] == [("Pinged", {"n": 1, "note": "due 2026-05-14"})]
    assert await count_events(generic_store) == 1
    # Unasked, the same retry is a conflict; and another actor is never the same decision.
    with pytest.raises(DuplicateEventConflict, match="occurred_at differs"):
        await generic_store.append("sensor-1", 0, [again])
    someone_else = dataclasses.replace(again, actor=Actor("reviewer", "rev-9"))
    with pytest.raises(DuplicateEventConflict, match="actor differs"):
        await generic_store.append("sensor-1", 0, [someone_else], adopt_redecided=True)
    # An exact retry adopts nothing: its own events are the recorded ones.
    exact = await generic_store.append("sensor-1", 0, [first], adopt_redecided=True)
    assert exact.replayed and exact.adopted == ()


async def test_a_known_event_id_sent_to_another_stream_is_refused(generic_store):
    event = ping(1)
    await generic_store.append("sensor-1", 0, [event])

    with pytest.raises(DuplicateEventConflict, match="belongs to stream 'sensor-1'"):
        await generic_store.append("sensor-2", 0, [event])
    assert await count_events(generic_store) == 1


async def test_a_batch_mixing_recorded_and_new_events_is_refused(generic_store):
    recorded = ping(1)
    await generic_store.append("sensor-1", 0, [recorded])

    with pytest.raises(DuplicateEventConflict, match="mixes recorded events with new ones"):
        await generic_store.append("sensor-1", 1, [recorded, ping(2)])
    assert await count_events(generic_store) == 1


def _bad_inputs() -> list[object]:
    naive = datetime(2026, 1, 1, 12, 0)
    twice = ping(7)
    nan = NewEvent(uuid.uuid4(), "Measured", {"value": float("nan")}, AT, ACTOR)

    def case(name: str, expected: object, events: list[NewEvent], error: type[Exception]) -> object:
        return pytest.param("sensor-1", expected, events, error, id=name)

    def changed(**fields: object) -> list[NewEvent]:
        return [dataclasses.replace(ping(2), **fields)]  # type: ignore[arg-type]

    return [
        case("unknown event type", 1, changed(type="Exploded"), UnknownEventType),
        case("payload fails its model", 1, changed(data={"n": "two"}), InvalidEventPayload),
        case("payload with an extra field", 1, changed(data={"n": 2, "x": 1}), InvalidEventPayload),
        case("payload not JSON (NaN)", 1, [nan], InvalidEventPayload),
        case("old schema version", 1, changed(schema_version=0), InvalidEventPayload),
        case("negative expected version", -1, pings(2), InvalidExpectedVersion),
        case("expected version not an int", True, pings(2), InvalidExpectedVersion),
        case("stale expected version", 0, pings(2), ConcurrencyConflict),
        case("empty batch", 1, [], EmptyBatch),
        case("naive occurred_at", 1, changed(occurred_at=naive), InvalidEnvelope),
        case("same id twice in a batch", 1, [twice, twice], InvalidEnvelope),
        case("actor without an id", 1, [ping(2, actor=Actor("city", ""))], InvalidEnvelope),
        pytest.param("", 0, pings(2), InvalidEnvelope, id="empty stream id"),
    ]


@pytest.mark.parametrize(("stream", "expected", "events", "error"), _bad_inputs())
async def test_bad_input_gets_a_typed_error_and_leaves_the_store_unchanged(
    generic_store, stream, expected, events, error
):
    await generic_store.append("sensor-1", 0, pings(1))
    before = await generic_store.read_all()

    with pytest.raises(error):
        await generic_store.append(stream, expected, events)

    after = await generic_store.read_all()
    assert after.events == before.events


async def test_the_database_refuses_update_delete_and_truncate_of_events(generic_store):
    await generic_store.append("sensor-1", 0, pings(1))

    async with generic_store.connection() as conn:
        for sql in (
            "UPDATE events SET data = '{\"n\": 99}'",
            "DELETE FROM events",
            "TRUNCATE events",
        ):
            with pytest.raises(asyncpg.PostgresError, match="append-only") as caught:
                await conn.execute(sql)
            assert caught.value.sqlstate == "ES001"
    assert [e.data["n"] for e in await generic_store.read_stream("sensor-1")] == [1]


async def test_each_event_hash_chains_from_the_one_before(generic_store):
    await generic_store.append("sensor-1", 0, pings(1, 2))
    await generic_store.append("sensor-1", 2, pings(3))

    previous = GENESIS
    for e in await generic_store.read_stream("sensor-1"):
        body = event_body(
            event_id=e.event_id,
            stream_id=e.stream_id,
            version=e.version,
            type=e.type,
            schema_version=e.schema_version,
            occurred_at=e.occurred_at,
            actor_role=e.actor.role,
            actor_id=e.actor.id,
            workflow_id=e.correlation.workflow_id if e.correlation else None,
            run_id=e.correlation.run_id if e.correlation else None,
            data_json=canonical_json(e.data),
        )
        # recorded_at is part of the hash, finished inside the database with its own clock.
        assert e.hash == chain_hash(previous, body, e.recorded_at)
        previous = e.hash


async def test_recorded_at_never_goes_back_within_a_stream_so_as_of_reads_see_a_prefix(generic_store):
    for n in range(5):
        await generic_store.append("sensor-1", n, pings(n))
    events = await generic_store.read_stream("sensor-1")
    stamps = [e.recorded_at for e in events]
    assert all(earlier < later for earlier, later in itertools.pairwise(stamps))

    # Given what the store held just after the third event,
    as_of = await generic_store.read_stream_as_of("sensor-1", events[2].recorded_at)
    assert [e.version for e in as_of] == [1, 2, 3]
    assert await generic_store.read_stream_as_of("sensor-1", stamps[0] - timedelta(seconds=1)) == []


async def test_events_without_a_correlation_are_stored_as_such(generic_store):
    bare = NewEvent(uuid.uuid4(), "Pinged", {"n": 1}, AT, ACTOR)
    await generic_store.append("sensor-1", 0, [bare])
    (e,) = await generic_store.read_stream("sensor-1")
    assert e.correlation is None
    assert e.data == {"n": 1, "note": ""}  # stored as the model normalises it: defaults filled


async def test_awkward_numbers_and_text_keep_their_value_and_their_hash(generic_store):
    # JSONB gives 1e20 back as an integer and -0.0 as 0: the hash must not care, the values must
    # read back equal, and verify must agree with the hash written at append time.
    data = {
        "value": 80.0,
        "values": [1e20, -0.0, 0.1, 1e-7, 1.5e16, 2.5, 1 / 3],
        "label": 'naïve ☃ \\u0000 "q"',
    }
    await generic_store.append("sensor-1", 0, [NewEvent(uuid.uuid4(), "Measured", data, AT, ACTOR)])

    (e,) = await generic_store.read_stream("sensor-1")
    assert e.data == data
    assert (await generic_store.verify()).ok


async def test_text_with_a_nul_character_is_refused_before_it_reaches_the_database(generic_store):
    with pytest.raises(InvalidEventPayload, match="NUL"):
        await generic_store.append("sensor-1", 0, [ping(1, note="a\x00b")])


async def test_an_unreachable_database_is_a_typed_error():
    with pytest.raises(StoreUnavailable):
        await EventStore.connect(
            "postgresql://postgres@/citycert?host=/nonexistent-socket-dir", registry=TEST_REGISTRY
        )


async def test_who_listens_hears_of_each_append_that_wrote_events_and_not_of_a_retry_or_refusal(
    generic_store,
):
    heard: list[str] = []
    generic_store.on_appended.append(lambda: heard.append("appended"))
    batch = pings(1, 2)
    # Given a listener, when events are appended, then it hears once
    await generic_store.append("sensor-1", 0, batch)
    assert heard == ["appended"]
    # When the same events come again (a retry), or at a stale version, then it hears nothing more
    assert (await generic_store.append("sensor-1", 0, batch)).replayed
    with pytest.raises(ConcurrencyConflict):
        await generic_store.append("sensor-1", 0, pings(3))
    assert heard == ["appended"]
