"""Projections: city_status, certifications, review_queue and state_snapshots, kept in the append's
transaction, and identical when rebuilt from the log."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from domain import commands as c
from domain import events as ev
from domain.levels import Level
from domain.state import Certification
from eventstore import ConcurrencyConflict, EventStore, NewEvent, RecordedEvent
from readmodel import (
    CERTIFICATION_COLUMNS,
    REVIEW_COLUMNS,
    STATUS_COLUMNS,
    city_state,
    load_city_state,
    open_city_store,
)
from readmodel.projector import SNAPSHOT_COLUMNS
from tests.integration.eventstore.stories import CRITERIA, DAY, REVIEWER, CityRun, envelope, evidence


async def table(store: EventStore, sql: str) -> list[dict[str, Any]]:
    async with store.connection() as conn:
        return [dict(r) for r in await conn.fetch(sql)]


async def tables(store: EventStore) -> dict[str, list[dict[str, Any]]]:
    return {
        "city_status": await table(store, "SELECT * FROM city_status ORDER BY city_id"),
        "certifications": await table(store, "SELECT * FROM certifications ORDER BY city_id, version"),
        "review_queue": await table(store, "SELECT * FROM review_queue ORDER BY city_id, criterion_id"),
        "state_snapshots": await table(store, "SELECT * FROM state_snapshots ORDER BY city_id, version"),
    }


async def test_a_certified_city_has_its_status_and_its_decision_recorded(store):
    run = CityRun(store, "lakeside")
    await run.register()
    await run.certify(approved=23, level=Level.SILVER)

    (status,) = await table(store, "SELECT * FROM city_status")
    assert status["city_id"] == "lakeside"
    assert status["stream_id"] == "city-lakeside"
    assert status["version"] == run.state.version
    assert status["phase"] == "certified"
    assert status["level"] == "silver"
    assert status["valid_until"] == run.state.certification.valid_until
    assert status["round_id"] == "2026-spring"
    assert status["open_review_items"] == 0
    assert status["score"] == run.state.score
    assert Certification.model_validate_json(status["certification"]) == run.state.certification
    assert json.loads(status["ended_certifications"]) == []
    assert await city_state(store, "lakeside") == run.state
    (decision,) = await table(store, "SELECT * FROM certifications")
    assert decision["city_id"] == "lakeside"
    assert (decision["level"], decision["previous_level"], decision["outcome"]) == ("silver", None, "new")
    assert (decision["round_id"], decision["standard_version"]) == ("2026-spring", "wwc-2022")
    assert await table(store, "SELECT * FROM review_queue") == []


async def test_the_review_queue_follows_each_item_to_whoever_must_act_next(store):
    run = CityRun(store, "lakeside")
    await run.register()
    await run.apply()
    a, b, d = sorted(CRITERIA[:3])  # as the queue sorts them

    # Given evidence submitted for three criteria, none of them has a reviewer yet.
    await run.do(evidence([a, b, d]))
    queue = await table(store, "SELECT * FROM review_queue ORDER BY criterion_id")
    assert [(q["criterion_id"], q["reviewer_id"], q["waiting_on"]) for q in queue] == [
        (a, None, "reviewer"),
        (b, None, "reviewer"),
        (d, None, "reviewer"),
    ]

    # When a reviewer is assigned, the items are theirs, due by the reviewer deadline;
    await run.do(c.AssignReviewer(**REVIEWER, criterion_ids=[a, b, d]))
    queue = await table(store, "SELECT * FROM review_queue WHERE reviewer_id = 'rev-ana' ORDER BY due_at")
    assert len(queue) == 3
    assert all(q["due_at"] == run.state.cycle.items[q["criterion_id"]].review_due_at for q in queue)

    # when one is approved and one needs a clarification, the first leaves the queue and the
    # second waits on the city until the clarification deadline;
    await run.review(approve=[a], clarify=(b,))
    queue = {q["criterion_id"]: q for q in await table(store, "SELECT * FROM review_queue")}
    assert set(queue) == {b, d}
    assert queue[b]["waiting_on"] == "city"
    assert queue[b]["due_at"] == run.state.cycle.items[b].clarification_due_at
    assert queue[d]["waiting_on"] == "reviewer"
    (status,) = await table(store, "SELECT open_review_items FROM city_status")
    assert status["open_review_items"] == 2

    # and once the city answers, it is the reviewer's turn again.
    await run.do(c.AnswerClarifications(items=[c.ClarificationAnswer(criterion_id=b, answer="2025")]))
    (item,) = await table(store, f"SELECT * FROM review_queue WHERE criterion_id = '{b}'")
    assert (item["waiting_on"], item["status"]) == ("reviewer", "clarification_answered")


async def test_each_final_decision_is_one_certifications_row(store):
    # A city certified Silver, then re-certified Gold: new, then elevated.
    climber = CityRun(store, "climber")
    await climber.register()
    await climber.certify(approved=23, level=Level.SILVER)
    await climber.certify(approved=30, level=Level.GOLD)
    # A city that fell short: not certified.
    short = CityRun(store, "short")
    await short.register()
    await short.apply()
    await short.do(evidence(CRITERIA[:3]))
    await short.review(approve=CRITERIA[:3])
    await short.do(c.CloseEvidenceSubmission())
    await short.do(c.WaiveSiteVisit(reason="virtual review"))
    await short.do(c.DecideLevel(level=None, rationale="below the bar"))
    await short.do(c.CloseAppealWindow(), wait=31 * DAY)

    rows = await table(store, "SELECT * FROM certifications ORDER BY city_id, version")
    assert [(r["city_id"], r["level"], r["previous_level"], r["outcome"]) for r in rows] == [
        ("climber", "silver", None, "new"),
        ("climber", "gold", "silver", "elevated"),
        ("short", None, None, "not_certified"),
    ]


async def several_cities(store: EventStore) -> None:
    """Cities in every kind of phase, so a rebuild has something to get wrong."""
    certified = CityRun(store, "certified")
    await certified.register()
    await certified.certify()
    reviewing = CityRun(store, "reviewing")
    await reviewing.register()
    await reviewing.apply()
    await reviewing.do(evidence(CRITERIA[:6]))
    await reviewing.review(approve=CRITERIA[:2], reject=(CRITERIA[2],), clarify=(CRITERIA[3],))
    withdrawn = CityRun(store, "withdrawn")
    await withdrawn.register()
    await withdrawn.apply()
    await withdrawn.do(c.Withdraw(reason="budget cuts"))
    registered = CityRun(store, "registered")
    await registered.register()


async def test_rebuilding_from_the_log_gives_the_same_tables_as_inline_maintenance(store):
    await several_cities(store)
    inline = await tables(store)
    assert all(inline.values())

    report = await store.rebuild_projections()

    assert report.streams == 4
    assert report.events == sum(r["version"] for r in inline["city_status"])
    assert await tables(store) == inline
    assert (await store.verify()).ok


async def test_load_state_folds_the_stream_and_agrees_with_the_projection(store, database_url):
    run = CityRun(store, "lakeside")
    await run.register()
    await run.certify()

    state = await load_city_state(store, "lakeside")

    assert state == run.state
    cold = await open_city_store(database_url)
    try:
        assert await city_state(cold, "lakeside") == state  # from a snapshot and the events after it
    finally:
        await cold.close()
    # As of a moment in the past (just after the application): the state the store showed then.
    events = await store.read_stream("city-lakeside")
    applied = run.results[1].version
    then = await load_city_state(store, "lakeside", as_of=events[applied - 1].recorded_at)
    assert (then.version, then.phase) == (applied, "evidence")


async def test_a_store_without_the_state_cached_continues_from_the_stored_state(store, database_url):
    # Two processes append to the same city in turns (activities land on any worker): each must
    # fold onto the state the other one left, which it folds from the latest snapshot on.
    other = await open_city_store(database_url)
    try:
        first = CityRun(store, "lakeside")
        await first.register()
        await first.apply()
        second = CityRun(other, "lakeside")
        second.state, second.now = first.state, first.now
        await second.do(evidence(CRITERIA[:4]))
        first.state, first.now = second.state, second.now
        await first.do(c.AssignReviewer(**REVIEWER, criterion_ids=CRITERIA[:4]))
        report = await store.verify()
        assert report.ok, report.lines()
    finally:
        await other.close()


async def test_a_city_whose_projection_row_is_missing_is_refolded_from_its_stream(store, database_url):
    run = CityRun(store, "lakeside")
    await run.register()
    await run.apply()
    async with store.connection() as conn:
        await conn.execute("DELETE FROM city_status")
    cold = await open_city_store(database_url)
    try:
        run.store = cold
        await run.do(evidence(CRITERIA[:2]))
        assert (await cold.verify()).ok
    finally:
        await cold.close()


async def test_appends_during_a_rebuild_wait_for_it_and_the_tables_stay_right(store):
    await several_cities(store)
    runs = [CityRun(store, f"busy-{n}") for n in range(4)]

    async def keep_appending(run: CityRun) -> None:
        await run.register()
        await run.apply()
        await run.do(evidence(CRITERIA[:5]))

    await asyncio.gather(store.rebuild_projections(), *(keep_appending(run) for run in runs))

    report = await store.verify()
    assert report.ok, report.lines()


async def test_the_projection_rows_match_the_table_columns(store):
    # Rows travel to eventstore_append as composite values in table column order: a migration that
    # adds a column must update the column lists (and the row functions) too.
    for table_name, columns in (
        ("city_status", STATUS_COLUMNS),
        ("certifications", CERTIFICATION_COLUMNS),
        ("review_queue", REVIEW_COLUMNS),
        ("state_snapshots", SNAPSHOT_COLUMNS),
    ):
        rows = await table(
            store,
            f"SELECT attname FROM pg_attribute WHERE attrelid = '{table_name}'::regclass"
            " AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        )
        assert tuple(r["attname"] for r in rows) == columns


async def test_a_retried_city_append_returns_the_original_result_and_a_stale_one_conflicts(
    store, database_url
):
    run = CityRun(store, "lakeside")
    await run.register()
    first = run.results[0]
    registered = await store.read_stream("city-lakeside")
    await run.apply()
    # The activity that registered the city is retried on another worker (nothing cached there).
    other = await open_city_store(database_url)
    try:
        batch = [envelope_of(e) for e in registered]
        again = await other.append("city-lakeside", 0, batch)
        assert again.replayed and again.positions == first.positions
        # A new command decided on the stale state is a conflict that names the actual version.
        with pytest.raises(ConcurrencyConflict) as caught:
            await other.append("city-lakeside", 1, [envelope(ev.CityWithdrawn(reason="late"))])
        assert caught.value.actual == run.state.version
    finally:
        await other.close()
    assert (await store.verify()).ok


def envelope_of(e: RecordedEvent) -> NewEvent:
    return NewEvent(e.event_id, e.type, e.data, e.occurred_at, e.actor, e.correlation, e.schema_version)


async def test_a_state_stored_in_an_older_shape_verifies_and_a_changed_one_does_not(store, database_url):
    # Given a city in review, its state snapshotted as an older release wrote it: every default
    # written out, and without the fields added since (each item's submission and last warning)
    run = CityRun(store, "lakeside")
    await run.register()
    await run.apply()
    await run.do(evidence(CRITERIA[:3]))
    older = run.state.model_dump(mode="json")
    for item in older["cycle"]["items"].values():
        del item["submission"], item["warned_for"]
    del older["snapshots_taken_at"]
    version = run.state.version
    async with store.connection() as conn:
        await conn.execute(_SNAPSHOT, version, json.dumps(older))
    # Then verify reads it as the projector does and finds nothing wrong (no rebuild needed),
    assert (await store.verify()).ok
    # and a store without the city cached continues from it
    cold = await open_city_store(database_url)
    try:
        assert await city_state(cold, "lakeside") == run.state
    finally:
        await cold.close()
    # but a value changed in it is reported
    older["name"] = "Lakeside Heights"
    async with store.connection() as conn:
        await conn.execute(_SNAPSHOT, version, json.dumps(older))
    report = await store.verify()
    assert [(m.table, m.key) for m in report.projection_mismatches] == [
        ("state_snapshots", ("lakeside", version))
    ]


_SNAPSHOT = """
INSERT INTO state_snapshots (city_id, version, state) VALUES ('lakeside', $1, $2)
ON CONFLICT (city_id, version) DO UPDATE SET state = EXCLUDED.state
"""


async def test_a_store_keeping_one_state_records_two_cities_in_turns_rightly(store, database_url):
    # A worker's store keeps as many folded states as the worker keeps runs (app/worker.py): a
    # city that fell out of it continues from its stored state.
    small = await open_city_store(database_url)
    small.keep_states(1)
    try:
        lakeside, harbor = CityRun(small, "lakeside"), CityRun(small, "harbor")
        await lakeside.register()
        await harbor.register()
        await lakeside.apply()
        await harbor.apply()
        await lakeside.do(evidence(CRITERIA[:2]))
        await harbor.do(evidence(CRITERIA[:3]))
        assert list(small._states) == ["city-harbor"]
        report = await small.verify()
        assert report.ok, report.lines()
    finally:
        await small.close()
