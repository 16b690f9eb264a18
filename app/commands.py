"""The command service: the one way any entry point gives a city a command.

`give(city_id, command, actor)` sends the command to the city's workflow as one Update, answered
once its events are recorded, so a read that follows sees them; `register(command, actor)` starts
the workflow with the registration in one Update-with-start. Both return the recorded events and
the city's summary, or raise an app error (app/errors.py): the domain's refusal, an unknown city,
a busy city, a command not confirmed in time, a service unavailable. The HTTP API, the CLI and the
demo seed all come through here, so a refusal reads the same everywhere.

`restart(city_id, actor)` is the operator's: a city whose workflow ended when it should not have
(terminated, failed, timed out, gone) gets a new run started from its stream folded, the store
being the truth; it records nothing.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar, cast, get_args

import structlog
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.names import EventToRecord
from app import assignment_capacity, errors, programme, reviewer_records, round_capacity
from domain import (
    Actor,
    CityState,
    CommandRejected,
    IneligibleCity,
    InvalidCommand,
    Phase,
    ProgrammePolicy,
    TooFrequent,
    decide,
    fold,
)
from domain import commands as cmd
from domain.authority import roles_that_may_give
from domain.errors import Label, Refusal
from domain.events import DomainEvent
from domain.programme import SwitchMigrationMode
from domain.state import CitySummary
from eventstore import EventStore, RecordedEvent
from readmodel import city_documents, city_state, city_summary
from runtime import telemetry
from workflows import search_attributes as sa
from workflows.city import CityCertificationWorkflow, CityWorkflowInput, CommandResult, GiveCommand
from workflows.contracts import (
    city_workflow_id,
    command_event_id,
    command_proof,
    new_run_input,
    refusal_in,
)

log = structlog.get_logger("citycert.commands")

# While a run hands over to the next, or records a deadline that has come, the validator answers
# CityBusy for a moment: the service waits and tries again instead of bothering the caller.
_BUSY_WAITS = (0.1, 0.2, 0.4, 0.8, 1.5)

# The ApplicationError types the workflow gives its refusals, and what they are to a caller.
_REFUSALS: dict[str, type[errors.AppError]] = {
    "CommandRejected": errors.Refused,
    "CityBusy": errors.Busy,
    "IneligibleCity": errors.Ineligible,
    "InvalidCommand": errors.Invalid,
    "NotAuthorized": errors.Forbidden,
}
# The words the workflow's validator answers CityBusy with (workflows/city.py), as refusals a page
# can say in the person's language (a unit test keeps the two lists the same).
BUSY_REFUSALS: dict[str, Refusal] = {
    refusal.template: refusal
    for refusal in (
        Refusal("the certification cycle is closing; try again"),
        Refusal("the city's workflow is moving to a fresh run; try again"),
        Refusal("a deadline is being recorded; try again"),
    )
}
# The workflow could not confirm the proof the service put on the command: not the caller's fault,
# the API and the workers hold different keys.
_KEY_MISMATCH = (
    "the workers refused the command's proof: the API and the workers hold different command keys "
    "(CITYCERT_COMMAND_KEY); an operator must give them the same one"
)


def _outcome_name(error: BaseException) -> str:
    """A command's failure as the citycert_commands counter names it (runtime/telemetry.py)."""
    for kind, name in (
        (errors.Busy, "busy"),
        (errors.Refused, "refused"),
        (errors.Invalid, "invalid"),
        (errors.Forbidden, "forbidden"),
        (errors.NotFound, "not_found"),
        (errors.Unavailable, "unavailable"),
    ):
        if isinstance(error, kind):
            return name
    return "error"


_counted = telemetry.counted_command(_outcome_name)
P = ParamSpec("P")
R = TypeVar("R")


def _then_told(
    method: Callable[Concatenate[CommandService, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[CommandService, P], Coroutine[Any, Any, R]]:
    """A command's method that, once it returned (its events recorded), calls the service's
    `on_recorded`; a refusal or a failure calls nothing."""

    @functools.wraps(method)
    async def told(service: CommandService, /, *args: P.args, **kwargs: P.kwargs) -> R:
        outcome = await method(service, *args, **kwargs)
        for call in service.on_recorded:
            call()
        return outcome

    return told


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """What a command recorded, and where the city stands after it."""

    city_id: str
    events: list[EventToRecord]
    summary: CitySummary


# A run's status as an operator reads it (WorkflowExecutionStatus in lower case); `missing` for none.
RunStatus = Literal[
    "missing", "running", "completed", "failed", "canceled", "terminated", "continued_as_new", "timed_out"
]


@dataclass(frozen=True, slots=True)
class RestartOutcome:
    """A city workflow's new run, and what had become of the one before."""

    city_id: str
    workflow_id: str
    run_id: str
    previous: RunStatus  # how the last run ended, or `missing` when there was none
    summary: CitySummary  # where the city stands, folded from its stream: the new run's state


def workflow_status_name(status: WorkflowExecutionStatus | None) -> RunStatus:
    """How an operator reads a run's status: `terminated`, `timed_out`...; `missing` for no run."""
    name = "missing" if status is None else status.name.lower()
    assert name in get_args(RunStatus), f"a run status this code does not know: {name}"
    return cast(RunStatus, name)


class CommandService:
    def __init__(
        self,
        store: EventStore,
        client: Client,
        *,
        policy: ProgrammePolicy,
        task_queue: str,
        command_timeout: float,
        command_key: bytes,
        on_recorded: list[Callable[[], None]] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.policy = policy
        self.task_queue = task_queue
        self.command_timeout = command_timeout  # seconds to wait for a command's events
        self.command_key = command_key  # signs each command for the workflow (workflows/contracts.py)
        # Called once a city's command returned, its events recorded by the city's workflow (in a
        # worker, through another store): the portal keeps parts of pages until an event commits,
        # and moves them at once for what this process's people did (entrypoints/web/fragments.py
        # `moved`). What this process appends itself tells its store's `on_appended` instead.
        # Shared with the copies `with_policy` makes.
        self.on_recorded: list[Callable[[], None]] = [] if on_recorded is None else on_recorded

    def with_policy(self, policy: ProgrammePolicy) -> CommandService:
        """The same service under another policy (the demo seed gives some cities short windows)."""
        return CommandService(
            self.store,
            self.client,
            policy=policy,
            task_queue=self.task_queue,
            command_timeout=self.command_timeout,
            command_key=self.command_key,
            on_recorded=self.on_recorded,
        )

    @_counted
    @_then_told
    async def give(self, city_id: str, command: cmd.HumanCommand, actor: Actor) -> CommandOutcome:
        """Give `command` to the city's workflow as `actor`; what it recorded."""
        command = await programme.stamped(self.store, command, actor)
        command = await reviewer_records.stamped(self.store, command, actor)
        command = await _with_uploads(self.store, city_id, command)
        await assignment_capacity.check_reviewer_capacity(self.store, city_id, command, self.policy)
        request = self._request(city_id, command, actor)
        if isinstance(command, cmd.RejoinProgramme):
            return await self._rejoin(city_id, request)
        handle = self.client.get_workflow_handle(city_workflow_id(city_id))

        async def call() -> CommandOutcome:
            try:
                result = await self._update(
                    lambda: handle.execute_update(CityCertificationWorkflow.give, request)
                )
            except RPCError as e:
                if e.status != RPCStatusCode.NOT_FOUND:
                    raise _translated(e) from e
                raise await self._no_workflow(city_id, command) from e
            return await self._outcome(city_id, result)

        # An application to a full round is refused here; one let through holds the round's place
        # until it is recorded (app/round_capacity.py).
        async with round_capacity.place_kept(self.store, city_id, command, self.policy):
            return await self._unless_recorded_anyway(city_id, request, call)

    @_counted
    @_then_told
    async def register(self, command: cmd.RegisterCity, actor: Actor) -> CommandOutcome:
        """Register a city and start its workflow in one Update-with-start.

        The domain decides first, on the stored state: an ineligible or known city is refused
        before anything starts, so a refusal records nothing and leaves no workflow behind.
        """
        registered = await check_registration(self.store, command, self.policy)
        request = self._request(command.city_id, command, actor)
        return await self._give_starting(command.city_id, request, state=None, attributes_of=registered)

    async def _rejoin(self, city_id: str, request: GiveCommand) -> CommandOutcome:
        """A withdrawn city's workflow ended for good: rejoining starts a new run from its events
        folded, with the command as its first Update (the run records it, then hands over to a
        fresh run as a registered city). A city still taking part has a running workflow, which
        gets the command and refuses it in the domain's words."""
        state = await _state_now(self.store, city_id)
        if state.version == 0:
            raise errors.UnknownCity(city_id)
        return await self._give_starting(city_id, request, state=state, attributes_of=state)

    async def _give_starting(
        self, city_id: str, request: GiveCommand, *, state: CityState | None, attributes_of: CityState
    ) -> CommandOutcome:
        """The request as the first Update of the city's workflow, started when none runs: from a
        fresh state (a registration) or the folded one (a closed run's id used again), with the
        search attributes of `attributes_of` (for a registration, the state it leaves the city in:
        the run then has nothing to upsert when it records it)."""

        run_input = self._workflow_input(city_id, state)

        async def call() -> CommandResult:
            # A fresh operation per attempt: one carries the handle of its own start.
            start = WithStartWorkflowOperation(
                CityCertificationWorkflow.run,
                run_input,
                id=city_workflow_id(city_id),
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                # A workflow left from an attempt that failed before recording, or a running one,
                # gets the command.
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=_attributes_at_start(run_input, attributes_of),
            )
            result: CommandResult = await self.client.execute_update_with_start_workflow(
                CityCertificationWorkflow.give, request, start_workflow_operation=start
            )
            return result

        async def give() -> CommandOutcome:
            try:
                result = await self._update(call)
            except RPCError as e:
                raise _translated(e) from e
            return await self._outcome(city_id, result)

        return await self._unless_recorded_anyway(city_id, request, give)

    async def _unless_recorded_anyway(
        self, city_id: str, request: GiveCommand, give: Callable[[], Awaitable[CommandOutcome]]
    ) -> CommandOutcome:
        """The outcome of `give`; if it fails as unavailable (the Update failed or went unanswered),
        what the store holds under the request's event ids instead: the events may be recorded all
        the same (the workflow ended after its activity committed them). The store says, not the
        failure, so nobody is told "not recorded" about a command that was."""
        try:
            return await give()
        except errors.Unavailable as failure:
            try:
                recorded = await self._recorded(city_id, request.request_id)
            except Exception as lookup:  # the store is down too: the first failure says enough
                log.warning("command.lookup_failed", city_id=city_id, error=str(lookup))
                raise failure from None
            if recorded is None:
                raise
            log.warning("command.recorded_despite_failure", city_id=city_id, failure=str(failure))
            return recorded

    async def restart(self, city_id: str, actor: Actor) -> RestartOutcome:
        """Start a new run of the city's workflow from its stream folded, when none is running.

        Refused (`WorkflowRunning`) while a run is running, and for a withdrawn city, whose
        workflow ended for good; `UnknownCity` for a city the store does not hold. Two restarts at
        once start one run: the start fails when the id has a running run (the conflict policy),
        and the loser is told the workflow is running.
        """
        state = await _state_now(self.store, city_id)
        if state.version == 0:
            raise errors.UnknownCity(city_id)
        if state.phase is Phase.WITHDRAWN:
            raise errors.Refused(
                Refusal("{city_id!r} has withdrawn: its workflow ended for good", city_id=city_id)
            )
        workflow_id = city_workflow_id(city_id)
        try:
            previous = await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise _translated(e) from e
            previous = None
        status = previous.status if previous is not None else None
        if status is WorkflowExecutionStatus.RUNNING:
            raise errors.WorkflowRunning(_running(city_id, previous.run_id if previous else None))
        run_input = self._workflow_input(city_id, state)
        try:
            handle = await self.client.start_workflow(
                CityCertificationWorkflow.run,
                run_input,
                id=workflow_id,
                task_queue=self.task_queue,
                # A closed run's id may be used again; a running one's never: of two restarts at
                # once, the second is refused here.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                # What the run would upsert first thing otherwise (workflows/city.py `_publish`).
                search_attributes=_attributes_at_start(run_input, state),
            )
        except WorkflowAlreadyStartedError as e:
            raise errors.WorkflowRunning(_running(city_id, e.run_id)) from e
        except RPCError as e:
            raise _translated(e) from e
        assert handle.result_run_id is not None, "a started workflow names its run"
        previous_name = workflow_status_name(status)
        log.info(
            "city workflow restarted",
            city_id=city_id,
            workflow_id=workflow_id,
            run_id=handle.result_run_id,
            previous=previous_name,
            version=state.version,
            actor_role=actor.role,
            actor_id=actor.id,
        )
        return RestartOutcome(city_id, workflow_id, handle.result_run_id, previous_name, state.summary())

    def _workflow_input(self, city_id: str, state: CityState | None = None) -> CityWorkflowInput:
        """What a city's first run starts with: a fresh state (a registration) or the folded one."""
        return new_run_input(city_id, self.policy, state)

    async def migration_mode(self) -> programme.ProgrammeStatus:
        """The programme's migration mode, and every switch of it as recorded."""
        return await programme.load_programme(self.store)

    async def switch_migration_mode(
        self, command: SwitchMigrationMode, actor: Actor
    ) -> programme.ProgrammeStatus:
        """Switch migration mode on or off for the whole store (an operator's), recorded in the
        programme stream; while on, an operator's import is recorded without a countersignature."""
        roles = roles_that_may_give(SwitchMigrationMode)
        if actor.role not in roles:
            raise errors.Forbidden(
                Refusal(
                    "a {role} may not switch migration mode; it needs the role {needed:or}",
                    role=Label("Role", actor.role),
                    needed=[Label("Role", r) for r in sorted(roles)],
                )
            )
        return await programme.switch_migration_mode(self.store, command, actor)

    def _request(self, city_id: str, command: cmd.HumanCommand, actor: Actor) -> GiveCommand:
        """The give Update's argument, signed so the workflow knows it comes through citycert, under
        a fresh request id from which the workflow derives its events' ids."""
        request_id = uuid.uuid4().hex
        proof = command_proof(self.command_key, city_id, actor, command, request_id)
        return GiveCommand(command=command, actor=actor, proof=proof, request_id=request_id)

    async def _outcome(self, city_id: str, result: CommandResult) -> CommandOutcome:
        """The Update answers with receipts; the events themselves are read from the store, where
        the workflow recorded them before it answered."""
        ids = [receipt.event_id for receipt in result.events]
        return CommandOutcome(city_id, _as_recorded(await self.store.events_by_id(ids)), result.status)

    async def _recorded(self, city_id: str, request_id: str) -> CommandOutcome | None:
        """What a command given under `request_id` recorded, if anything: its first event's id says
        whether and where, the stream from there how many (they follow one another)."""
        found = await self.store.events_by_id([command_event_id(request_id, 0)])
        if not found:
            return None
        (first,) = found
        # A command records at most an event per item and a few more: one page holds them all.
        following = await self.store.read_stream_page(
            first.stream_id, after=first.version - 1, limit=2 * cmd.MAX_ITEMS
        )
        ours = itertools.takewhile(
            lambda pair: pair[1].event_id == command_event_id(request_id, pair[0]),
            enumerate(following.events),
        )
        found = [e for _, e in ours]
        summary = await city_summary(self.store, city_id)
        assert summary is not None, "a city with recorded events has a status row"
        return CommandOutcome(city_id, _as_recorded(found), summary)

    async def _update(self, call: Callable[[], Awaitable[CommandResult]]) -> CommandResult:
        """Run one Update call, retrying while the city is busy; refusals and timeouts as app errors."""
        for wait in (*_BUSY_WAITS, None):
            try:
                return await asyncio.wait_for(call(), self.command_timeout)
            except WorkflowUpdateFailedError as e:
                cause = e.cause
                if wait is not None and isinstance(cause, ApplicationError) and cause.type == "CityBusy":
                    await asyncio.sleep(wait)
                    continue
                raise _refusal(e) from e
            except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as e:
                # Our wait ran out (the SDK reports its cancelled poll as the latter): the Update may
                # still complete, e.g. once the worker's database is back.
                raise errors.NotConfirmed(
                    f"the command was not confirmed within {self.command_timeout:g} s; it may still be "
                    "recorded once the database is back: read the city's events before sending it again"
                ) from e
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _no_workflow(self, city_id: str, command: cmd.HumanCommand) -> errors.AppError:
        """Why a city has no running workflow: unknown, withdrawn (refused), or not restarted."""
        state = await _state_now(self.store, city_id)
        if state.version == 0:
            return errors.UnknownCity(city_id)
        refusal = _refusal_now(state, command, self.policy)
        if refusal is not None:
            return refusal
        return errors.WorkflowNotRunning(
            f"the workflow of {city_id!r} is not running; an operator must restart it "
            f"(`citycert workflow restart {city_id}`)"
        )


async def check_registration(
    store: EventStore, command: cmd.RegisterCity, policy: ProgrammePolicy
) -> CityState:
    """Refuse an ineligible or already registered city on the stored state, before any workflow
    exists: the one pre-check of a registration (the workflow decides again, as for every command).
    Allowed, the state the registration leaves the city in: its workflow is started with that
    state's search attributes."""
    state = await _state_now(store, command.city_id)
    decided = _decided_now(state, command, policy)
    if isinstance(decided, errors.AppError):
        raise decided
    return fold(state, decided)


async def _state_now(store: EventStore, city_id: str) -> CityState:
    """The city's state now (version 0: not registered), from the store's cached fold or its latest
    snapshot and the few events after it (readmodel.city_state), not a fold of its whole stream:
    the state a fold from the first event gives (verify checks every snapshot against that fold),
    at the cost of a few events however long the stream has grown."""
    return await city_state(store, city_id) or CityState.initial(city_id)


def _refusal_now(state: CityState, command: cmd.Command, policy: ProgrammePolicy) -> errors.AppError | None:
    """The domain's refusal of `command` on `state` now, as an app error; None if it is allowed."""
    decided = _decided_now(state, command, policy)
    return decided if isinstance(decided, errors.AppError) else None


def _decided_now(
    state: CityState, command: cmd.Command, policy: ProgrammePolicy
) -> list[DomainEvent] | errors.AppError:
    """The events `command` causes on `state` now, or the domain's refusal as an app error."""
    try:
        return decide(state, command, now=datetime.now(UTC), policy=policy)
    except IneligibleCity as e:
        return errors.Ineligible(str(e), refusal=e.refusal)
    except TooFrequent as e:
        return errors.TooFrequent(str(e), retry_at=e.retry_at, refusal=e.refusal)
    except CommandRejected as e:
        return errors.Refused(str(e), refusal=e.refusal)
    except InvalidCommand as e:
        return errors.Invalid(str(e), refusal=e.refusal)


async def _with_uploads(store: EventStore, city_id: str, command: cmd.HumanCommand) -> cmd.HumanCommand:
    """Evidence, clarification answers and an appeal's evidence that name uploaded documents, each
    filled in from the city's own upload (its SHA-256 and title, whatever the caller put there; its
    slot is the caller's); refused naming a document the city did not upload, so no city can cite
    another's file. The city's uploads are read once, not per citation."""
    given: Sequence[cmd.EvidenceItem | cmd.ClarificationAnswer]
    if isinstance(command, cmd.SubmitEvidence | cmd.AnswerClarifications):
        given, field = command.items, "items"
    elif isinstance(command, cmd.FileAppeal):
        given, field = command.evidence, "evidence"
    else:
        return command
    if not any(isinstance(d, cmd.UploadedDocument) for item in given for d in item.documents):
        return command
    uploads = {u.document_id: u for u in await city_documents(store, city_id)}

    def filled(criterion_id: str, given: cmd.GivenDocument) -> cmd.GivenDocument:
        if not isinstance(given, cmd.UploadedDocument):
            return given
        upload = uploads.get(given.document_id)
        if upload is None:
            raise errors.Invalid(
                Refusal(
                    "document {document_id} (for {criterion_id}) is not one of {city_id}'s uploads: "
                    "upload it first (POST /v1/cities/{city_id}/documents)",
                    document_id=given.document_id,
                    criterion_id=criterion_id,
                    city_id=city_id,
                )
            )
        return cmd.UploadedDocument(
            document_id=upload.document_id, sha256=upload.sha256, title=upload.title, slot=given.slot
        )

    items = [
        item.model_copy(update={"documents": [filled(item.criterion_id, d) for d in item.documents]})
        for item in given
    ]
    return command.model_copy(update={field: items})


def _attributes_at_start(run_input: CityWorkflowInput, state: CityState) -> TypedSearchAttributes | None:
    """The search attributes a city's run is started with: those of `state` (the run then upserts
    only what differs from them), or none for a run that keeps no search attributes."""
    return sa.at_start(state) if run_input.search_attributes else None


def _running(city_id: str, run_id: str | None) -> str:
    run = f" (run {run_id})" if run_id else ""
    return f"the workflow of {city_id!r} is running{run}: there is nothing to restart"


def _as_recorded(events: list[RecordedEvent]) -> list[EventToRecord]:
    return [
        EventToRecord(
            event_id=e.event_id,
            type=e.type,
            data=e.data,
            occurred_at=e.occurred_at,
            actor=Actor(role=e.actor.role, id=e.actor.id),
            workflow_id=e.correlation.workflow_id if e.correlation else "",
            run_id=e.correlation.run_id if e.correlation else "",
        )
        for e in events
    ]


def _refusal(e: WorkflowUpdateFailedError) -> errors.AppError:
    """The workflow refused a command (its validator or handler), or could not record it."""
    cause = e.cause
    if isinstance(cause, ApplicationError) and cause.type == "TooFrequent":
        retry_at = datetime.fromisoformat(cause.details[0]) if cause.details else None
        return errors.TooFrequent(cause.message, retry_at=retry_at, refusal=refusal_in(cause))
    if isinstance(cause, ApplicationError) and cause.type in _REFUSALS:
        refusal = refusal_in(cause)
        if refusal is None and cause.type == "CityBusy":
            refusal = BUSY_REFUSALS.get(cause.message)
        return _REFUSALS[cause.type](cause.message, refusal=refusal)
    if isinstance(cause, ApplicationError) and cause.type == "Unsigned":
        return errors.Unavailable(_KEY_MISMATCH, code="command_key_mismatch")
    inner = cause.cause if isinstance(cause, ActivityError) else None
    if isinstance(inner, ApplicationError) and inner.type == "InvalidEventPayload":
        # The store refused the event's shape: the input, not the service, is at fault.
        return errors.Invalid(inner.message)
    detail = cause.message if isinstance(cause, ApplicationError) else str(cause)
    return errors.NotRecorded("the command was not recorded, try again", internal=detail)


def _translated(e: RPCError) -> errors.AppError:
    translated = errors.translate(e)
    assert translated is not None, "every RPCError has a meaning to a caller"
    return translated
