"""The city workflow's module is passed through the sandbox (shared by every run, for memory's
sake: workflows/sandbox.py). That is safe only while the module holds no state one run could leave
for the next; these tests say so of today's module and would fail on the first such state."""

from __future__ import annotations
import __future__

import contextlib
import dataclasses
import importlib
import inspect
import types
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio import workflow
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, UnintentionalPassthroughError

import workflows.city
from workflows.sandbox import (
    ISOLATED_MODULES,
    PASSTHROUGH_MODULES,
    isolating_runner,
    sandbox_restrictions,
    workflow_runner,
)

# Values that cannot change once made: a module-level constant of one of these is no state.
_IMMUTABLE = (str, bytes, int, float, bool, type(None), frozenset, datetime, timedelta, __future__._Feature)


def _immutable(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_immutable(v) for v in value)
    if inspect.isclass(value) or inspect.isfunction(value):
        return True
    if dataclasses.is_dataclass(value):
        return bool(type(value).__dataclass_params__.frozen)  # type: ignore[attr-defined]
    model_config = getattr(type(value), "model_config", None)
    if isinstance(model_config, dict) and model_config.get("frozen"):
        return True  # a frozen pydantic model
    return isinstance(value, _IMMUTABLE)


def _shared_already(name: str, value: Any) -> bool:
    """Whether the global is a name imported from a module that was passed through before the
    workflow module was (workflows.contracts' COMMANDS): one object for every run either way."""
    for module in PASSTHROUGH_MODULES:
        if module in ISOLATED_MODULES:
            continue
        with contextlib.suppress(ImportError):
            if getattr(importlib.import_module(module), name, None) is value:
                return True
    return False


def mutable_globals(module: types.ModuleType) -> list[str]:
    """The module's globals that a run could change: neither a module, a class, a function, an
    immutable value, nor a dunder the import system sets (`__all__`, `__spec__`, ...)."""
    return [
        name
        for name, value in vars(module).items()
        if not (name.startswith("__") and name.endswith("__"))
        and not (inspect.ismodule(value) or callable(value) or _immutable(value))
        and not _shared_already(name, value)
    ]


def class_state(cls: type) -> list[str]:
    """The class's own attributes a run could change: everything but its methods, their
    descriptors, immutable values and what Python and temporalio put there."""
    return [
        name
        for name, value in vars(cls).items()
        if not name.startswith("__")
        and not (inspect.isfunction(value) or isinstance(value, (staticmethod, classmethod, property)))
        and not _immutable(value)
    ]


def test_the_city_workflow_module_holds_no_state_a_run_could_share() -> None:
    assert "workflows.city" in PASSTHROUGH_MODULES
    assert mutable_globals(workflows.city) == []
    assert class_state(workflows.city.CityCertificationWorkflow) == []


def test_the_check_finds_state_in_a_module_and_a_class() -> None:
    module = types.ModuleType("leaky")
    module.seen = []  # type: ignore[attr-defined]
    module.LIMIT = 3  # type: ignore[attr-defined]
    module.NAMES = ("a", "b")  # type: ignore[attr-defined]
    module.TABLE = {"a": 1}  # type: ignore[attr-defined]

    class Leaky:
        runs: list[str] = []
        limit = 3

        def run(self) -> None: ...

    assert mutable_globals(module) == ["seen", "TABLE"]
    assert class_state(Leaky) == ["runs"]


@pytest.mark.parametrize("module", ISOLATED_MODULES)
def test_the_isolating_runner_reimports_the_workflow_modules_and_only_those(module: str) -> None:
    shared = workflow_runner().restrictions.passthrough_modules
    isolated = isolating_runner().restrictions.passthrough_modules
    assert module in shared
    assert module not in isolated
    assert shared - isolated == set(ISOLATED_MODULES)


async def test_a_shared_workflow_module_is_checked_as_a_reimported_one_when_a_worker_is_built() -> None:
    from tests.unit.workflows.shared_workflow import SharedLeaky

    module = SharedLeaky.__module__
    defn = workflow._Definition.must_from_class(SharedLeaky)
    shared = (*PASSTHROUGH_MODULES, module)
    # Passed through and shared, its imports would never meet the sandbox's list...
    SandboxedWorkflowRunner(restrictions=sandbox_restrictions(shared)).prepare_workflow(defn)
    # ...so the worker's runner imports it once more in a sandbox of its own, which refuses them.
    with pytest.raises(UnintentionalPassthroughError, match="eventstore"):
        workflow_runner(shared, isolated=(module,)).prepare_workflow(defn)
