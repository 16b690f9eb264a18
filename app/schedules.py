"""The reminder schedule: a Temporal Schedule that starts the reminder sweep (daily by default).

Created idempotently at worker start; an operator can trigger it now or backfill missed days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from workflows.reminders import SCHEDULE_ID, SWEEP_WORKFLOW_ID, ReminderSweepInput, ReminderSweepWorkflow


def reminder_schedule(task_queue: str, thresholds: tuple[int, ...], every: timedelta) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReminderSweepWorkflow.run,
            ReminderSweepInput(thresholds=list(thresholds)),
            id=SWEEP_WORKFLOW_ID,
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        # A sweep is idempotent and cheap: one at a time, and a missed one is simply run late.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=7)),
    )


async def ensure_reminder_schedule(
    client: Client,
    task_queue: str,
    thresholds: tuple[int, ...] = (180, 90, 30),
    every: timedelta = timedelta(days=1),
) -> ScheduleHandle:
    """Create the schedule, or bring an existing one up to date; safe from many workers at once."""
    schedule = reminder_schedule(task_queue, thresholds, every)
    try:
        return await client.create_schedule(SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:
        handle = client.get_schedule_handle(SCHEDULE_ID)

        def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await handle.update(replace)
        return handle


async def trigger_reminders(client: Client) -> None:
    """Run the sweep now, whatever the schedule says."""
    await client.get_schedule_handle(SCHEDULE_ID).trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)


async def backfill_reminders(client: Client, start: datetime, end: datetime) -> None:
    """Run the sweeps the schedule would have run between start and end (after an outage)."""
    await client.get_schedule_handle(SCHEDULE_ID).backfill(
        ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    )
