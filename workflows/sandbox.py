"""The workflow sandbox as citycert runs it: an explicit allow-list of modules passed through.

Temporal re-imports a workflow's modules in a fresh sandbox for every run, so module state cannot
leak between runs. Re-importing our pure modules each time is only cost (a measurement here fell
from ~60 to ~12 workflows/s), so `domain` and friends are passed through: loaded once, shared.
So is the city workflow's own module, for the memory each re-import kept per cached run (its entry
below says why that is safe, and what keeps the sandbox's checks on its code).

Passing a module through is a promise that it is deterministic and side-effect free, so the list
is explicit and the worker refuses anything else: with RAISE_ON_UNINTENTIONAL_PASSTHROUGH, a
workflow module that imports a module neither listed here nor in Temporal's defaults (the standard
library, temporalio, pydantic) fails when the worker is built, naming the module, instead of
silently re-importing it per run. Add a module here on purpose, in review, or reach its I/O
through an activity.

Three consequences for workflow modules (each checked the hard way):
- a workflow module outside the `workflows` package (tests) must import listed modules by full
  name, `from workflows.search_attributes import CERT_PHASE`: `from workflows import
  search_attributes` imports the package `workflows` itself, which is not listed (listing it would
  pass every workflow module through and lose per-run isolation). Inside the package either form
  works, because the package is already loaded as the workflow module's parent;
- workflows/__init__.py runs inside the sandbox whenever one of its workflow modules loads, so it
  must not import workflow modules eagerly (with two of them, validating the first refuses the
  second). Build WORKFLOWS lazily, e.g. with a module `__getattr__("WORKFLOWS")`;
- `workflow.unsafe.imports_passed_through()` bypasses this list; prefer adding the module here so
  the decision stays in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import SandboxImportNotificationPolicy

PASSTHROUGH_MODULES: tuple[str, ...] = (
    "domain",  # the pure decider: standard library and pydantic only (tests/unit/domain/test_purity.py)
    "workflows.search_attributes",  # SearchAttributeKey constants, no I/O
    "workflows.contracts",  # the city workflow's input/output models and command parsing, no I/O
    "activities.names",  # activity names and their input/output models only, never the I/O code
    "structlog",  # workflows log through workflow.logger, but shared helpers may import structlog
    # The city workflow's own module, shared by every run instead of re-imported for each: one
    # re-import kept ~85 KiB per cached run (its code objects, the class and its handler
    # definitions: 186 -> 100 KiB per run measured with 200 runs cached), the larger part of a
    # worker's memory with many cities open. Safe because the module holds no state a run could
    # leak into the next: its globals are imports, the workflow class and constants, and the class
    # has only methods; every run's state lives on its own instance (tests/unit/workflows/
    # test_sandbox.py checks both). What the sandbox would have checked by re-importing it is
    # still checked (ISOLATED_MODULES): its imports when the worker is built, and every recorded
    # history replayed with it re-imported under the full restrictions (tests/unit/workflows/
    # test_replay.py), which refuse a non-deterministic call (datetime.now, random, I/O) in its
    # own code.
    "workflows.city",
    # pydantic, pydantic_core, annotated_types and typing_extensions are in Temporal's defaults.
)

# The workflow modules passed through above for memory's sake, which would otherwise be re-imported
# for every run: each is still imported once in a sandbox of its own when a worker is built, so an
# import outside the list fails there, naming the module, as for any workflow module
# (ValidatingRunner); isolating_runner re-imports them for every run, as Temporal would by default.
ISOLATED_MODULES: tuple[str, ...] = ("workflows.city",)

# Warn on a late (dynamic) import as Temporal does by default, and raise on an unlisted module.
POLICY = (
    SandboxImportNotificationPolicy.WARN_ON_DYNAMIC_IMPORT
    | SandboxImportNotificationPolicy.RAISE_ON_UNINTENTIONAL_PASSTHROUGH
)


def sandbox_restrictions(passthrough: Iterable[str] = PASSTHROUGH_MODULES) -> SandboxRestrictions:
    """Temporal's default restrictions plus exactly `passthrough`, refusing any other module."""
    return SandboxRestrictions.default.with_passthrough_modules(*passthrough).with_import_notification_policy(
        POLICY
    )


@dataclass(frozen=True)
class ValidatingRunner(SandboxedWorkflowRunner):
    """The sandboxed runner, which validates a workflow whose module it shares between runs as if
    that module were re-imported: in a sandbox without it passed through (`isolated`)."""

    isolated: SandboxRestrictions = field(default=SandboxRestrictions.default)

    def prepare_workflow(self, defn: workflow._Definition) -> None:
        SandboxedWorkflowRunner(restrictions=self.isolated).prepare_workflow(defn)
        super().prepare_workflow(defn)


def workflow_runner(
    passthrough: Iterable[str] = PASSTHROUGH_MODULES, isolated: Iterable[str] = ISOLATED_MODULES
) -> SandboxedWorkflowRunner:
    """The runner every citycert worker uses (worker.build_worker): `passthrough` shared, and those
    of them in `isolated` checked as re-imported modules when a worker is built."""
    shared = tuple(passthrough)
    checked = set(isolated)
    return ValidatingRunner(
        restrictions=sandbox_restrictions(shared),
        isolated=sandbox_restrictions(m for m in shared if m not in checked),
    )


def isolating_runner() -> SandboxedWorkflowRunner:
    """A runner that re-imports the workflow modules of ISOLATED_MODULES for every run, under all
    of the sandbox's restrictions: what the replay test runs recorded histories with, so a call in
    workflows/city.py that the sandbox refuses still fails a test although production workers
    share the module."""
    return SandboxedWorkflowRunner(
        restrictions=sandbox_restrictions(m for m in PASSTHROUGH_MODULES if m not in ISOLATED_MODULES)
    )
