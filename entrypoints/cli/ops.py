"""Operators' tools: replay workflow histories against today's code, rebuild and verify projections,
restart a city workflow that stopped.

- `citycert replay` fetches the histories of the city workflows from Temporal (or reads JSON files
  with --histories) and replays them with the worker's own sandbox runner and pydantic converter.
  A history that today's code cannot replay is a change that would break running workflows: guard
  it with workflow.patched() before deploying.
- `citycert migrate` applies the pending migrations as the schema's owner (a deployment's one-shot).
- `citycert projections rebuild` folds the whole log into fresh projection tables.
- `citycert verify` checks the store (hash chains, version gaps, projections against a fresh fold),
  that every running city workflow holds the state its stream folds to, and that every city that
  has not withdrawn has a running workflow (app/supervision.py).
- `citycert workflow restart CITY` starts a new run of a city's workflow that is not running, from
  its stream folded (app.commands.CommandService.restart).

replay and verify exit 1 when they find a problem, 2 on bad input (cli_context.py); restart exits 2
for a city whose workflow is running, that has withdrawn, or that the store does not hold.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from entrypoints.cli.context import (
    connected,
    load_settings,
    open_store,
    open_temporal,
    operator_actor,
    run,
    temporal_reachable,
)
from entrypoints.cli.output import console, emit, errors, fail, print_table

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowExecution, WorkflowHistory

    from app.commands import RestartOutcome
    from eventstore import EventStore, VerifyReport
    from runtime.settings import Settings

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]

CITY_WORKFLOWS = "WorkflowType = 'CityCertification'"
QUERY_TIMEOUT = timedelta(seconds=10)
STATE_CHECKS = 3  # a state that differs is read again: a query may land between record and fold
PARALLEL_QUERIES = 8

projections_app = typer.Typer(help="The read models folded from the event log.", no_args_is_help=True)
workflow_app = typer.Typer(help="The city workflows in Temporal.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root `citycert` app."""
    app.command("replay")(replay)
    app.command("verify")(verify)
    app.command("anchor")(anchor)
    app.command("migrate")(migrate)
    app.add_typer(projections_app, name="projections")
    app.add_typer(workflow_app, name="workflow")


@contextmanager
def progress() -> Iterator[Progress]:
    """A progress bar on stderr while a terminal watches; nothing otherwise (stdout stays clean)."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
        disable=not errors.is_terminal,
    )
    with bar:
        yield bar


def _city_ids(cities: Sequence[str]) -> list[str]:
    from domain.ids import is_city_id

    bad = [c for c in cities if not is_city_id(c)]
    if bad:
        raise fail(f"not city ids: {', '.join(map(repr, bad))}")
    return list(dict.fromkeys(cities))


# --- replay ----------------------------------------------------------------------------------------


@dataclass
class Replayed:
    source: str  # the file, or "workflow_id run_id"
    workflow_id: str
    run_id: str | None
    failure: str | None = None  # what went wrong, in a line
    detail: str | None = None  # the whole error as the SDK gave it

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass
class _Source:
    """Where histories come from: files read up front, or executions listed from Temporal."""

    labels: list[str]
    histories: AsyncIterator[WorkflowHistory]
    unreadable: list[Replayed] = field(default_factory=list)


def _from_files(folder: Path, cities: list[str]) -> _Source:
    from temporalio.client import WorkflowHistory

    if not folder.is_dir():
        raise fail(f"--histories {str(folder)!r} is not a directory")
    paths = sorted(folder.glob("*.json"))
    if cities:
        # Files are named after their city, as tests/histories does: <city>-run<N>.json.
        paths = [p for p in paths if any(p.stem == c or p.stem.startswith(f"{c}-") for c in cities)]
    if not paths:
        raise fail(f"no histories (*.json) to replay in {str(folder)!r}")
    loaded: list[tuple[str, WorkflowHistory]] = []
    unreadable = []
    for path in paths:
        try:
            loaded.append((str(path), WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError) as e:
            unreadable.append(Replayed(str(path), path.stem, None, f"unreadable history: {e}"))

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for _, history in loaded:
            yield history

    return _Source([label for label, _ in loaded], histories(), unreadable)


def _visibility_query(cities: list[str], query: str | None) -> str:
    where = CITY_WORKFLOWS
    if cities:
        where += f" AND WorkflowId IN ({', '.join(repr(f'city-{c}') for c in cities)})"
    if query:
        where += f" AND ({query})"
    return where


async def _executions(client: Client, query: str) -> list[WorkflowExecution]:
    from temporalio.service import RPCError, RPCStatusCode

    try:
        return [execution async for execution in client.list_workflows(query)]
    except RPCError as e:
        if e.status == RPCStatusCode.INVALID_ARGUMENT:
            raise fail(f"Temporal refused the visibility query {query!r}: {e.message}") from None
        raise


def _from_temporal(client: Client, executions: list[WorkflowExecution]) -> _Source:
    async def histories() -> AsyncIterator[WorkflowHistory]:
        for execution in executions:
            yield await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()

    return _Source([f"{e.id} {e.run_id}" for e in executions], histories())


async def _replay(source: _Source) -> list[Replayed]:
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.worker import Replayer

    from workflows import WORKFLOWS
    from workflows.sandbox import workflow_runner

    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
        runtime=_quiet_runtime(),
    )
    results = list(source.unreadable)
    with progress() as bar:
        task = bar.add_task("replaying histories", total=len(source.labels))
        async with replayer.workflow_replay_iterator(source.histories) as replayed:
            labels = iter(source.labels)
            async for result in replayed:
                failure = result.replay_failure
                outcome = Replayed(next(labels), result.history.workflow_id, result.history.run_id)
                if failure is not None:
                    outcome.detail = f"{type(failure).__name__}: {failure}"
                    outcome.failure = _headline(outcome.detail)
                results.append(outcome)
                bar.advance(task)
    return results


# The SDK Core wraps the reason in a Rust debug dump: `Failure { message: "[TMPRL1100] ...", ...}`.
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


def _headline(detail: str) -> str:
    found = _CORE_MESSAGE.search(detail)
    return found.group(1).replace('\\"', '"') if found else detail


def _quiet_runtime() -> Any:
    """A runtime for the Replayer whose Core logs go to stdlib logging (stderr), errors only: the
    Core warns on stdout about each failing history, which we report ourselves, and stdout must
    stay JSON with --json."""
    import logging

    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        )
    )


def replay(
    cities: Annotated[
        list[str] | None,
        typer.Option("--city", help="Only this city's workflows (repeat for several)", show_default=False),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            help="A Temporal visibility query to narrow the workflows, e.g. \"CertPhase = 'review'\"",
            show_default=False,
        ),
    ] = None,
    histories: Annotated[
        Path | None,
        typer.Option(
            help="Replay the JSON histories in this folder (e.g. tests/histories) instead of Temporal's",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Replay city workflow histories against this code; report every non-determinism (exit 1).

    By default every run (closed ones included) of every city workflow Temporal holds, or those of
    --city / --query. With --histories, the files of a folder; --city then picks <city>-*.json.
    """
    if histories is not None and query is not None:
        raise fail("--query selects workflows in Temporal; it cannot be used with --histories")
    city_ids = _city_ids(cities or [])

    async def work() -> list[Replayed]:
        if histories is not None:
            return await _replay(_from_files(histories, city_ids))
        settings = load_settings()
        async with open_temporal(settings) as client:
            executions = await _executions(client, _visibility_query(city_ids, query))
            return await _replay(_from_temporal(client, executions))

    results = run(work)
    failed = [r for r in results if not r.ok]

    def human() -> None:
        if failed:
            print_table(
                f"{len(failed)} of {len(results)} histories do not replay",
                ("history", "failure"),
                [(r.source, r.failure) for r in failed],
            )
        if not results:
            errors.print("no city workflow histories matched: nothing replayed")
        console.print(f"{len(results) - len(failed)} of {len(results)} histories replay with this code")

    emit(
        {"ok": not failed, "replayed": len(results), "results": [{**asdict(r), "ok": r.ok} for r in results]},
        as_json,
        human,
    )
    if failed:
        raise typer.Exit(1)


# --- projections -----------------------------------------------------------------------------------


@projections_app.command("rebuild")
def projections_rebuild(as_json: JsonOption = False) -> None:
    """Rebuild city_status, certifications, review_queue and state_snapshots from the log, in one
    transaction.

    Appends wait while it runs (they are held back, not refused).
    """
    settings = load_settings()

    async def work() -> Any:
        async with open_store(settings) as store:
            with progress() as bar:
                bar.add_task("rebuilding projections from the log", total=None)
                return await store.rebuild_projections()

    report = run(work)
    data = {
        "streams": report.streams,
        "events": report.events,
        "seconds": round(report.seconds, 3),
        "events_per_second": round(report.events_per_second),
    }
    emit(
        data,
        as_json,
        lambda: console.print(
            f"rebuilt the projections of {report.streams} cities from {report.events} events "
            f"in {report.seconds:.2f} s ({report.events_per_second:,.0f} events/s)"
        ),
    )


# --- verify ----------------------------------------------------------------------------------------


@dataclass
class WorkflowCheck:
    checked: int = 0
    skipped: bool = False
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    not_running: list[dict[str, Any]] = field(default_factory=list)  # cities whose workflow should run
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.mismatches or self.not_running or self.problems)


def _differences(a: Any, b: Any) -> list[str]:
    """Top-level fields of two CityStates that differ."""
    return [name for name in type(a).model_fields if getattr(a, name) != getattr(b, name)]


async def _unpolled_queues(client: Client, queues: set[str]) -> list[str]:
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    idle = []
    for queue in sorted(queues):
        response = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            retry=True,
            timeout=QUERY_TIMEOUT,
        )
        if not response.pollers:
            idle.append(queue)
    return idle


async def _check_one(
    client: Client, store: EventStore, execution: WorkflowExecution, check: WorkflowCheck
) -> None:
    from temporalio.client import WorkflowQueryFailedError
    from temporalio.service import RPCError

    from readmodel import load_city_state
    from workflows.city import CityCertificationWorkflow
    from workflows.contracts import city_of_workflow

    city_id = city_of_workflow(execution.id) or execution.id
    handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
    for attempt in range(STATE_CHECKS):
        try:
            held = await handle.query(CityCertificationWorkflow.current_state, rpc_timeout=QUERY_TIMEOUT)
        except (RPCError, WorkflowQueryFailedError) as e:
            check.problems.append(f"{execution.id}: the workflow did not answer its state query: {e}")
            return
        stored = await load_city_state(store, city_id)
        if held == stored:
            return
        if attempt + 1 < STATE_CHECKS:
            await asyncio.sleep(0.3)
    detail = f"workflow at v{held.version}, stream at v{stored.version}"
    differing = _differences(held, stored)
    if differing:
        detail += f"; differs in {', '.join(differing)}"
    check.mismatches.append(
        {"city_id": city_id, "workflow_id": execution.id, "run_id": execution.run_id, "detail": detail}
    )


async def _check_workflows(settings: Settings, store: EventStore) -> WorkflowCheck:
    from app.supervision import RUNNING_CITY_WORKFLOWS, stopped_workflows

    check = WorkflowCheck()
    async with open_temporal(settings) as client:
        running = await _executions(client, RUNNING_CITY_WORKFLOWS)
        with progress() as bar:
            bar.add_task("looking for cities whose workflow is not running", total=None)
            stopped = await stopped_workflows(store, client, running={e.id for e in running})
        check.not_running = [{**asdict(s), "phase": s.phase.value} for s in stopped]
        idle = await _unpolled_queues(client, {e.task_queue for e in running})
        if idle:
            waiting = sum(1 for e in running if e.task_queue in idle)
            check.problems.append(
                f"no worker polls task queue(s) {', '.join(idle)}: the state of {waiting} running "
                "workflow(s) was not compared (start `citycert worker`)"
            )
            running = [e for e in running if e.task_queue not in idle]
        limit = asyncio.Semaphore(PARALLEL_QUERIES)
        with progress() as bar:
            task = bar.add_task("comparing workflow states with the store", total=len(running))

            async def one(execution: WorkflowExecution) -> None:
                async with limit:
                    await _check_one(client, store, execution, check)
                    check.checked += 1
                    bar.advance(task)

            await asyncio.gather(*(one(e) for e in running))
    check.mismatches.sort(key=lambda m: m["workflow_id"])
    return check


def _store_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "streams": report.streams,
        "events": report.events,
        "broken_chains": [asdict(p) for p in report.broken_chains],
        "version_gaps": [asdict(p) for p in report.version_gaps],
        "unreadable": [asdict(p) for p in report.unreadable],
        "projection_mismatches": [{**asdict(m), "key": list(m.key)} for m in report.projection_mismatches],
        "anchor": {
            "taken_at": report.anchor_taken_at.isoformat() if report.anchor_taken_at else None,
            "problems": [asdict(p) for p in report.anchor_problems],
        },
    }


def migrate(as_json: JsonOption = False) -> None:
    """Apply the pending database migrations as the schema's owner, then exit.

    Connects with CITYCERT_DATABASE_OWNER_URL (else CITYCERT_DATABASE_URL, else the embedded
    PostgreSQL). Run it once per release before the workers and the API, which run as a role of the
    citycert_runtime group (CITYCERT_DATABASE_URL) and refuse to start while a migration is pending.
    Safe to run twice, or from two places at once: the second finds nothing to do.
    """
    from runtime.store import migrate_database

    settings = load_settings()
    applied = run(lambda: migrate_database(settings))
    emit(
        {"applied": applied},
        as_json,
        lambda: console.print(
            f"applied migrations {', '.join(f'{v:04d}' for v in applied)}"
            if applied
            else "nothing to migrate",
            highlight=False,
        ),
    )


def anchor(as_json: JsonOption = False) -> None:
    """Record every stream's head, signed, outside the database: in the Object Lock bucket
    CITYCERT_ANCHOR_S3_BUCKET when it is set (refused if it has no Object Lock), else in the folder
    CITYCERT_ANCHOR_DIR.

    `citycert verify` then checks the log against the newest anchor: a stream edited and re-chained,
    cut short or deleted since is reported. Run it on a schedule (cron) in production; `citycert
    dev` anchors every CITYCERT_ANCHOR_EVERY.
    """
    from runtime.anchors import anchor_now

    settings = load_settings()

    async def work() -> tuple[str | Path, int]:
        async with open_store(settings) as store:
            try:
                path, taken = await anchor_now(store, settings)
            except OSError as e:
                raise fail(f"could not write the anchor: {e}", 1) from None
        return path, len(taken.heads)

    path, streams = run(work)
    emit(
        {"file": str(path), "streams": streams},
        as_json,
        lambda: console.print(f"anchored {streams} streams in {path}", highlight=False),
    )


def verify(
    skip_workflows: Annotated[
        bool,
        typer.Option("--skip-workflows", help="Check the store only, not the city workflows (no Temporal)"),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check the event store, and that the city workflows run and agree with it.

    Hash chains, version gaps and projection rows; every stream against the newest anchor (see
    `citycert anchor`), so history rewritten, cut short or deleted since is found; every document a
    DocumentUploaded event names against its hash (missing or altered bytes); then each
    running city workflow's state against the fold of its stream, and every city that has not
    withdrawn for a running workflow: one terminated, failed, timed out, completed or missing is
    reported (`citycert workflow restart CITY` starts it again). Exit 1 on any problem.
    """
    from app.documents import DocumentProblem, verify_documents
    from eventstore import AnchorError
    from runtime.anchors import anchor_destination
    from runtime.documents import document_store
    from runtime.keys import anchor_key
    from runtime.process import StartupError

    settings = load_settings()
    try:
        latest = anchor_destination(settings).latest(anchor_key(settings))
    except AnchorError as e:
        raise fail(f"the newest anchor cannot be trusted: {e}", 1) from None
    except (StartupError, OSError) as e:
        raise fail(f"could not read the anchors: {e}", 1) from None
    if not skip_workflows and not temporal_reachable(settings):
        raise fail(
            f"no Temporal server runs on 127.0.0.1:{settings.temporal_port}: start `citycert dev`, set "
            "CITYCERT_TEMPORAL_ADDRESS, or check the store alone with --skip-workflows",
            1,
        )

    async def work() -> tuple[VerifyReport, tuple[int, list[DocumentProblem]], WorkflowCheck]:
        async with open_store(settings) as store:
            with progress() as bar:
                bar.add_task("verifying hash chains and projections", total=None)
                report = await store.verify(latest[1] if latest else None)
            with progress() as bar:
                bar.add_task("verifying the stored documents against their hashes", total=None)
                documents = await verify_documents(store, document_store(settings))
            check = WorkflowCheck(skipped=True) if skip_workflows else await _check_workflows(settings, store)
        return report, documents, check

    report, (documents_checked, document_problems), check = run(work)
    ok = report.ok and check.ok and not document_problems

    def human() -> None:
        for line in report.lines():
            console.print(line, highlight=False, markup=False)
        console.print(f"documents: {documents_checked} checked against their hashes")
        if document_problems:
            print_table(
                f"{len(document_problems)} documents whose stored bytes are missing or altered",
                ("city", "document", "problem", "where"),
                [(p.city_id, p.document_id, p.problem, p.location) for p in document_problems],
            )
        if latest is None:
            console.print("anchor: none yet (`citycert anchor` records one)")
        else:
            console.print(f"anchor: checked against {latest[0]}", highlight=False, markup=False)
        if check.skipped:
            console.print("workflows: not checked (--skip-workflows)")
        else:
            console.print(f"workflows: {check.checked} running city workflows compared with the store")
        for problem in check.problems:
            console.print(f"workflow problem: {problem}", highlight=False, markup=False)
        if check.not_running:
            print_table(
                f"{len(check.not_running)} cities whose workflow is not running "
                "(`citycert workflow restart CITY`)",
                ("city", "phase", "workflow", "status", "last run"),
                [
                    (n["city_id"], n["phase"], n["workflow_id"], n["status"], n["run_id"])
                    for n in check.not_running
                ],
            )
        if check.mismatches:
            print_table(
                "workflow state differs from the store",
                ("workflow", "detail"),
                [(m["workflow_id"], m["detail"]) for m in check.mismatches],
            )
        console.print("OK" if ok else "PROBLEMS FOUND")

    emit(
        {
            "ok": ok,
            "store": _store_json(report),
            "documents": {
                "ok": not document_problems,
                "checked": documents_checked,
                "problems": [asdict(p) for p in document_problems],
            },
            "workflows": {**asdict(check), "ok": check.ok},
        },
        as_json,
        human,
    )
    if not ok:
        raise typer.Exit(1)


# --- workflow --------------------------------------------------------------------------------------


@workflow_app.command("restart")
def workflow_restart(
    city_id: Annotated[
        str, typer.Argument(metavar="CITY", help="The city's id, e.g. lakeside", show_default=False)
    ],
    as_json: JsonOption = False,
) -> None:
    """Start a new run of a city's workflow that is not running, from its stream folded.

    For a workflow that was terminated, failed, timed out or is missing (`citycert verify` lists
    them): the store is the truth, so the new run holds the state the city's events fold to, under
    the configured programme policy. Records no event. Refused (exit 2) while the workflow is
    running (of two restarts at once, one starts the run), for a withdrawn city and for one the
    store does not hold.
    """
    [city] = _city_ids([city_id])
    settings = load_settings()

    async def work() -> RestartOutcome:
        async with connected(settings, temporal=True) as ctx:
            return await ctx.services().commands.restart(city, operator_actor())

    outcome = run(work)
    emit(
        {
            "city_id": outcome.city_id,
            "workflow_id": outcome.workflow_id,
            "run_id": outcome.run_id,
            "previous": outcome.previous,
            "status": outcome.summary.model_dump(mode="json"),
        },
        as_json,
        lambda: console.print(
            f"restarted {outcome.workflow_id} (it was {outcome.previous}): run {outcome.run_id}, "
            f"{outcome.summary.phase.value} at v{outcome.summary.version}",
            highlight=False,
            markup=False,
        ),
    )
