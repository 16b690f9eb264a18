"""The re-certification reminder sweep, started by a Temporal Schedule (daily by default).

It asks the store which certified cities have a reminder threshold that has come, and signals
each city's workflow; the city decides (once per threshold per certification) and records it.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.common import RetryPolicy

from activities.names import FIND_DUE_REMINDERS, FindDueRemindersInput, FindDueRemindersResult
from workflows.contracts import city_workflow_id

SWEEP_WORKFLOW_ID = "reminder-sweep"
SCHEDULE_ID = "reminder-sweep-daily"


class ReminderSweepInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    thresholds: list[int] = [180, 90, 30]


class ReminderSweepResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    signalled: list[str]  # "city_id:threshold"


@workflow.defn(name="ReminderSweep")
class ReminderSweepWorkflow:
    @workflow.run
    async def run(self, input: ReminderSweepInput) -> ReminderSweepResult:
        due = await workflow.execute_activity(
            FIND_DUE_REMINDERS,
            FindDueRemindersInput(now=workflow.now(), thresholds=input.thresholds),
            result_type=FindDueRemindersResult,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        signalled: list[str] = []
        for reminder in due.reminders:
            city = workflow.get_external_workflow_handle(city_workflow_id(reminder.city_id))
            await city.signal("remind", reminder.threshold_days)
            signalled.append(f"{reminder.city_id}:{reminder.threshold_days}")
        return ReminderSweepResult(signalled=signalled)
