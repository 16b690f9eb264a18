"""A phase's clock on the time-skipping server: nobody gives a command, and the reminder and then
the escalation arrive by themselves, each with its notice; an operator's extension starts the
clock again towards the new date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.testing import WorkflowEnvironment

from domain import ProgrammePolicy
from eventstore import EventStore
from tests.integration.workflows.harness import running_worker, start_city
from tests.polling import eventually
from tests.scenarios import CITY_STAFF, OPERATOR
from tests.temporal_env import time_skipping_environment

POLICY = ProgrammePolicy()  # the workflow's own: submission due 90 days on, told 14 days before


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_environment() as environment:
        yield environment


async def outbox_kinds(store: EventStore) -> list[str]:
    async with store.connection() as conn:
        rows = await conn.fetch("SELECT kind FROM notification_outbox ORDER BY created_at")
    return [r["kind"] for r in rows]


async def test_the_submission_clock_reminds_then_escalates_by_itself_and_an_extension_restarts_it(
    env: WorkflowEnvironment, store: EventStore
) -> None:
    async with running_worker(env, store) as queue:
        # Given a city that applied (a new cycle opens under the latest rules: its clock starts)
        city = await start_city(env, store, queue, "fairhaven")
        await city.do("RegisterCity", city_id="fairhaven", name="Fairhaven", country="US", population=52_000)
        await city.do("ApplyForCertification", CITY_STAFF, cohort="2026-fall", standard_version="wwc-2022")
        assert (await city.stored_types())[-1] == "DeadlineSet"
        window, warning = POLICY.submission_window, POLICY.submission_warning

        # When the time passes to the warning, then its staff are told, with a notice for their mail
        await env.sleep(window - warning + timedelta(hours=1))
        await eventually(city.stored_types, lambda types: "SubmissionDueSoon" in types)
        assert "SubmissionOverdue" not in await city.stored_types()
        await eventually(lambda: outbox_kinds(store), lambda kinds: "submission_due_soon" in kinds)

        # When the due date passes, then the committee hears the submission is overdue, once
        await env.sleep(warning)
        await eventually(city.stored_types, lambda types: "SubmissionOverdue" in types)
        await eventually(lambda: outbox_kinds(store), lambda kinds: "submission_overdue" in kinds)

        # When an operator extends it by thirty days, then its clock runs to the new date again
        now = await env.get_current_time()
        await city.do(
            "ExtendDeadline",
            OPERATOR,
            deadline="submission",
            due_at=(now + timedelta(days=30)).isoformat(),
            reason="the city's offices were closed by flooding",
            extended_by=OPERATOR.id,
        )
        await env.sleep(timedelta(days=30) - warning + timedelta(hours=1))
        await eventually(city.stored_types, lambda types: types.count("SubmissionDueSoon") == 2)
        await env.sleep(warning)
        await eventually(city.stored_types, lambda types: types.count("SubmissionOverdue") == 2)
        types = await city.stored_types()
        assert types[3:] == [
            "SubmissionDueSoon",
            "SubmissionOverdue",
            "DeadlineExtended",
            "SubmissionDueSoon",
            "SubmissionOverdue",
        ]
        assert "deadline_extended" in await outbox_kinds(store)
