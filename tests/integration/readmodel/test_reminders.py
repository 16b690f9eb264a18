"""Reminders: the thresholds sent are a column the sweep reads, and each ReminderSent queues its
notification in the append that records it."""

from __future__ import annotations

import json
from datetime import timedelta

import asyncpg
import pytest

from domain import commands as c
from domain import events as ev
from domain.levels import Level
from eventstore import ConcurrencyConflict, EventStoreError, ProjectionMismatch
from eventstore.migrations import migrate, shipped_migrations
from readmodel import REMINDER_NOTIFICATION, expiring_certifications
from tests.integration.eventstore.stories import SYSTEM, CityRun, envelope


async def certified_until(store, city_id: str, *, days_left: int) -> CityRun:
    run = CityRun(store, city_id)
    await run.register()
    await run.do(
        c.ImportCertification(
            level=Level.GOLD,
            cohort="2024",
            standard_version="wwc-2018",
            valid_from=run.now - timedelta(days=900),
            valid_until=run.now + timedelta(days=days_left),
        ),
        actor=SYSTEM,
    )
    return run


async def outbox(store) -> list[dict]:
    """The reminders queued (the award before them queued its own notice)."""
    async with store.connection() as conn:
        rows = await conn.fetch(
            "SELECT * FROM notification_outbox WHERE kind = $1 ORDER BY created_at", REMINDER_NOTIFICATION
        )
    return [dict(r) for r in rows]


async def test_a_recorded_reminder_is_queued_for_delivery_by_the_same_append(store):
    run = await certified_until(store, "lakeside", days_left=100)

    await run.do(c.SendReminder(threshold_days=180), actor=SYSTEM, wait=timedelta(0))

    (reminder,) = await store.read_stream("city-lakeside", from_version=run.state.version)
    (queued,) = await outbox(store)
    assert (queued["event_id"], queued["city_id"], queued["kind"]) == (
        reminder.event_id,
        "lakeside",
        REMINDER_NOTIFICATION,
    )
    assert json.loads(queued["payload"]) == {
        "kind": REMINDER_NOTIFICATION,
        "audience": "city",
        "valid_until": reminder.data["valid_until"],
        "due_at": reminder.data["valid_until"],
    }
    assert queued["created_at"] == reminder.recorded_at
    assert queued["sent_at"] is None


async def test_a_refused_or_retried_append_queues_nothing_more(store):
    run = await certified_until(store, "lakeside", days_left=100)
    reminder = envelope(ev.ReminderSent(threshold_days=180, valid_until=run.state.certification.valid_until))
    stale = run.state.version - 1

    # A reminder decided on a stale state is refused, and nothing is queued;
    with pytest.raises(ConcurrencyConflict):
        await store.append(run.stream_id, stale, [reminder])
    assert await outbox(store) == []
    # the same reminder at the right version is queued once, however often the activity retries it.
    await store.append(run.stream_id, run.state.version, [reminder])
    again = await store.append(run.stream_id, run.state.version, [reminder])
    assert again.replayed
    assert [q["event_id"] for q in await outbox(store)] == [reminder.event_id]


async def test_an_event_whose_notification_cannot_be_queued_is_not_recorded_either(store):
    run = await certified_until(store, "lakeside", days_left=100)
    reminder = envelope(ev.ReminderSent(threshold_days=180, valid_until=run.state.certification.valid_until))
    async with store.connection() as conn:  # a row already there under the event's id
        await conn.execute(
            "INSERT INTO notification_outbox (event_id, city_id, kind, payload, created_at)"
            " VALUES ($1, 'lakeside', 'other', '{}', now())",
            reminder.event_id,
        )

    with pytest.raises(EventStoreError):
        await store.append(run.stream_id, run.state.version, [reminder])

    assert await store.stream_version(run.stream_id) == run.state.version


async def test_the_reminders_sent_column_follows_appends_rebuilds_and_verify(store):
    run = await certified_until(store, "lakeside", days_left=80)
    await run.do(c.SendReminder(threshold_days=90), actor=SYSTEM, wait=timedelta(0))

    async def column() -> list[int]:
        async with store.connection() as conn:
            return list(await conn.fetchval("SELECT reminders_sent FROM city_status"))

    assert await column() == [90]
    async with store.connection() as conn:
        await conn.execute("UPDATE city_status SET reminders_sent = '{}'")
    report = await store.verify()
    assert report.projection_mismatches == [
        ProjectionMismatch("city_status", ("lakeside",), "differs in reminders_sent")
    ]
    # Until it is repaired, the sweep would remind the city again: the column is what it reads.
    (expiring,) = await expiring_certifications(store, run.now, within_days=90)
    assert expiring.reminders_sent == ()

    await store.rebuild_projections()

    assert await column() == [90]
    assert (await store.verify()).ok


async def test_the_migration_fills_the_column_from_the_states_already_stored(store, databases):
    # A database as it was before the column existed, with a city that was sent two reminders.
    run = await certified_until(store, "lakeside", days_left=80)
    run.state = run.state.model_copy(
        update={"certification": run.state.certification.model_copy(update={"reminders_sent": (180, 90)})}
    )
    [column] = [m for m in shipped_migrations() if m.name == "reminders_and_outbox_in_append"]
    before = [m for m in shipped_migrations() if m.version < column.version]
    conn = await asyncpg.connect(await databases.create())
    try:
        await migrate(conn, before)
        await conn.execute(
            "INSERT INTO city_status (city_id, stream_id, version, phase, name, country,"
            " open_review_items, updated_at, state)"
            " VALUES ('lakeside', 'city-lakeside', $1, 'certified', 'Lakeside', 'US', 0, now(), $2)",
            run.state.version,
            run.state.model_dump_json(),
        )

        await migrate(conn)

        assert await conn.fetchval("SELECT reminders_sent FROM city_status") == [180, 90]
    finally:
        await conn.close()


async def test_the_sweep_leaves_a_suspended_certificate_out_until_it_is_reinstated(store):
    # Given two certificates ending in 80 days, one of them suspended by the committee,
    await certified_until(store, "harbor", days_left=80)
    run = await certified_until(store, "lakeside", days_left=80)
    await run.do(c.SuspendCertification(reason="portal offline", suspended_by="cmt-ben"), actor=SYSTEM)

    # when the sweep asks which certificates end soon, the suspended one is not among them,
    suspended = await expiring_certifications(store, run.now, within_days=90)

    # and once reinstated it is again.
    await run.do(c.ReinstateCertification(reason="back online", reinstated_by="cmt-ben"), actor=SYSTEM)
    reinstated = await expiring_certifications(store, run.now, within_days=90)
    assert [e.city_id for e in suspended] == ["harbor"]
    assert [e.city_id for e in reinstated] == ["harbor", "lakeside"]
