"""The reminder schedule on the real dev server: created idempotently, triggered and backfilled
by an operator, and a city is reminded once per threshold however often the sweep runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.schedules import backfill_reminders, ensure_reminder_schedule, trigger_reminders
from eventstore import EventStore
from tests.integration.workflows.harness import import_certification, running_worker, start_city
from tests.polling import eventually
from tests.temporal_env import dev_server_environment
from workflows.reminders import SCHEDULE_ID


async def test_an_operator_triggers_and_backfills_the_reminder_sweep(store: EventStore) -> None:
    async with dev_server_environment() as env, running_worker(env, store) as queue:
        client = env.client
        await ensure_reminder_schedule(client, queue)
        handle = await ensure_reminder_schedule(client, queue, every=timedelta(hours=12))  # again: an update
        described = await handle.describe()
        assert described.id == SCHEDULE_ID
        assert [i.every for i in described.schedule.spec.intervals] == [timedelta(hours=12)]

        city = await start_city(env, store, queue, "lakeview")
        await city.do("RegisterCity", city_id="lakeview", name="Lakeview", country="US", population=88_000)
        await import_certification(city, "gold", "wwc-2022", held_days=1000, days_left=80)

        await trigger_reminders(client)
        await eventually(
            city.stored_types, lambda types: types[-1] == "ReminderSent", attempts=200, pause=0.1
        )
        now = datetime.now(UTC)
        await backfill_reminders(client, now - timedelta(days=3), now)

        async def sweeps() -> int:
            return (await client.count_workflows("WorkflowType = 'ReminderSweep'")).count

        await eventually(
            sweeps, lambda n: n >= 4, attempts=200, pause=0.1
        )  # the trigger and the backfilled sweeps
        async with store.connection() as conn:
            await eventually(
                lambda: conn.fetchval(
                    "SELECT count(*) FROM notification_outbox "
                    "WHERE city_id = 'lakeview' AND kind = 'certification_expiry_reminder'"
                ),
                lambda n: n == 1,
            )
        types = await city.stored_types()
        assert types.count("ReminderSent") == 1, (
            "the 90-day reminder is recorded once, however many sweeps ran"
        )
        state = await city.state()
        assert state.certification is not None and state.certification.reminders_sent == (90,)
