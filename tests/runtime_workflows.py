"""Small workflows for tests/test_runtime_temporal.py, in their own module for the sandbox.

The sandbox re-imports a workflow's module for every run and refuses any import outside the
allow-list (workflows/sandbox.py), so this module imports only what a real workflow module may:
the standard library, temporalio, pydantic, structlog, domain and workflows.search_attributes.
(The test module itself imports pytest and worker.py, which the sandbox would refuse.)
"""

from __future__ import annotations

from datetime import timedelta

import structlog  # noqa: F401  (imported to prove the allow-list passes it through)
from pydantic import BaseModel
from temporalio import workflow

import domain  # noqa: F401  (imported to prove the allow-list passes it through)
from workflows.search_attributes import CERT_COHORT, CERT_LEVEL, CERT_PHASE, CERT_VALID_UNTIL


class Greeting(BaseModel):
    name: str
    text: str = ""
    context: dict[str, str] = {}


@workflow.defn
class Greet:
    """Round-trips a pydantic model through an activity named 'compose_greeting'."""

    @workflow.run
    async def run(self, greeting: Greeting) -> Greeting:
        composed: Greeting = await workflow.execute_activity(
            "compose_greeting",
            greeting,
            result_type=Greeting,
            start_to_close_timeout=timedelta(seconds=30),
        )
        return composed


@workflow.defn
class WaitForFinish:
    """Waits, durably, for a 'finish' signal and returns its value."""

    def __init__(self) -> None:
        self._value: str | None = None

    @workflow.signal
    def finish(self, value: str) -> None:
        self._value = value

    @workflow.query
    def waiting(self) -> bool:
        """Answered only once a worker has run the first workflow task."""
        return self._value is None

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self._value is not None)
        assert self._value is not None
        return self._value


@workflow.defn
class ThirtyDayTimer:
    """Sleeps 30 days and reports how long the workflow clock moved."""

    @workflow.run
    async def run(self) -> float:
        start = workflow.now()
        await workflow.sleep(timedelta(days=30))
        return (workflow.now() - start).total_seconds()


@workflow.defn
class MarkPhase:
    """Upserts all four citycert search attributes, then completes."""

    @workflow.run
    async def run(self, phase: str) -> str:
        workflow.upsert_search_attributes(
            [
                CERT_PHASE.value_set(phase),
                CERT_LEVEL.value_set("Gold"),
                CERT_COHORT.value_set("2026-spring"),
                CERT_VALID_UNTIL.value_set(workflow.now() + timedelta(days=3 * 365)),
            ]
        )
        return phase
