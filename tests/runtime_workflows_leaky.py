"""A workflow module that imports an I/O library the sandbox allow-list does not name.

tests/test_runtime_temporal.py checks that the worker refuses it. Workflows reach the database only
through activities; importing asyncpg here is the mistake the allow-list exists to catch.
"""

from __future__ import annotations

import asyncpg  # noqa: F401  (the deliberate mistake)
from temporalio import workflow


@workflow.defn
class Leaky:
    @workflow.run
    async def run(self) -> str:
        return "should never run"
