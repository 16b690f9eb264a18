"""Recorded histories replay against today's workflow code, so a change that would break the
workflows already running fails here first (use workflow.patched for an intended change)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows import WORKFLOWS
from workflows.sandbox import isolating_runner, workflow_runner

# The first recording at the top, later ones in a folder each (see tests/histories/record.py).
HISTORIES = sorted((Path(__file__).parents[2] / "histories").rglob("*.json"))


def updates_in(path: Path) -> set[str]:
    """The names of the Updates a recorded history accepted."""
    events = json.loads(path.read_text(encoding="utf-8"))["events"]
    return {
        e["workflowExecutionUpdateAcceptedEventAttributes"]["acceptedRequest"]["input"]["name"]
        for e in events
        if "workflowExecutionUpdateAcceptedEventAttributes" in e
    }


def test_there_are_histories_to_replay_of_both_updates() -> None:
    # Runs that took commands by name (`command`) must replay as well as those given typed ones.
    assert len(HISTORIES) >= 8, HISTORIES
    recorded_with = {name for path in HISTORIES for name in updates_in(path)}
    assert recorded_with == {"command", "give"}, recorded_with


# Each history replays on the sandbox as workers run it (the city workflow's module shared by every
# run) and with that module re-imported under all of the sandbox's restrictions, so that a call
# the sandbox would refuse in workflows/city.py's own code still fails here (workflows/sandbox.py).
RUNNERS = {"shared": workflow_runner, "isolated": isolating_runner}


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_a_recorded_history_replays_without_nondeterminism(path: Path, runner: str) -> None:
    history = WorkflowHistory.from_json(f"city-{path.stem.split('-')[0]}", path.read_text(encoding="utf-8"))
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=RUNNERS[runner]()
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def test_a_changed_workflow_is_caught(tmp_path: Path) -> None:
    """The replay check has teeth: a history whose recorded commands differ fails."""
    # One recorded through a regular activity (a local one's type is inside its marker's payload).
    original = next(t for p in HISTORIES if '"record_events"' in (t := p.read_text(encoding="utf-8")))
    # Pretend the recorded run called a different activity: today's code must notice.
    tampered = original.replace('"record_events"', '"record_events_v0"', 1)
    assert tampered != original
    history = WorkflowHistory.from_json("city-tampered", tampered)
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=workflow_runner()
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is not None
