"""Temporal workflows: thin orchestration of the domain's decisions and the activities.

`WORKFLOWS` lists every workflow class a citycert worker runs. It is resolved lazily: the sandbox
re-imports a workflow's own module for each run and refuses any other module not passed through
on purpose, so this package's __init__ must import none of its siblings.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "WORKFLOWS":
        from workflows.city import CityCertificationWorkflow
        from workflows.reminders import ReminderSweepWorkflow

        return [CityCertificationWorkflow, ReminderSweepWorkflow]
    raise AttributeError(name)
