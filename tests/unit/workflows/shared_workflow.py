"""A workflow module for tests/unit/workflows/test_sandbox.py that imports a module the sandbox's
list does not name (the event store, I/O): refused however the module is run."""

from __future__ import annotations

from temporalio import workflow

import eventstore  # noqa: F401  (what the test expects to be refused)


@workflow.defn(name="SharedLeaky")
class SharedLeaky:
    @workflow.run
    async def run(self) -> str:
        return "never run"
