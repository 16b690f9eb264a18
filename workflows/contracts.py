"""What the city workflow takes and gives: its input, the command it is given and the result, its
view, how the older `command` Update's request becomes a domain command, and how a refusal travels
back to the caller.

Kept apart from workflows/city.py so the sandbox can pass this module through: the workflow module
itself is re-imported for every run, and rebuilding these pydantic classes each time cost ~90 KiB
and ~2 ms per run (bench/lifecycle.py measured 306 -> 216 MiB at 1,000 open cities).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from domain import Actor, CityState, CommandRejected, InvalidCommand, Phase, ProgrammePolicy, TooFrequent
from domain import commands as cmd
from domain import events as ev
from domain.authority import roles_that_may_give
from domain.errors import Refusal
from domain.state import CitySummary

# The commands the `command` Update takes by name: a person's, never a timer's.
COMMANDS: dict[str, type[cmd.Command]] = {c.command_name(): c for c in cmd.HUMAN_COMMANDS}
# Events after which this run's cycle is over and the next run starts from the folded state.
CYCLE_ENDS = (
    ev.CertificationAwarded,
    ev.CertificationCycleClosed,
    ev.CertificationLapsed,
    ev.CertificationEnded,
)
TIMER = Actor(role="timer", id="workflow")
TIMER_RETRY_PAUSE = timedelta(hours=1)
SCHEDULER = Actor(role="scheduler", id="reminder-sweep")
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["ConcurrencyConflict", "DuplicateEventConflict", "InvalidEventPayload"],
)


WORKFLOW_ID_PREFIX = "city-"


def city_workflow_id(city_id: str) -> str:
    """The id of a city's workflow, the same through every run: `city-<city_id>`."""
    return f"{WORKFLOW_ID_PREFIX}{city_id}"


def city_of_workflow(workflow_id: str) -> str | None:
    """The city a workflow id belongs to, or None for a workflow that is not a city's."""
    if not workflow_id.startswith(WORKFLOW_ID_PREFIX):
        return None
    return workflow_id.removeprefix(WORKFLOW_ID_PREFIX)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# Temporal allows 2,000 Updates per run and 50 MB of history: a run hands over to a fresh one well
# before either, whatever the city sends, so no flood of commands can freeze its workflow.
UPDATES_PER_RUN = 500
HANDOVER_WHEN_FULL = "handover-when-history-full"  # workflow.patched id of that rule
# workflow.patched id of the rules a new cycle opens under (domain/rules.py): histories recorded
# before it opened their cycles, and took their snapshots, under the first rules.
RULES_PER_CYCLE = "rules-per-cycle"
# The ROUNDS rules (domain/rules.py) for a cycle opened or a snapshot taken after them.
ROUNDS_RULES = "rounds-rules"
RULED_OUTSIDE_A_CYCLE = (cmd.ApplyForCertification, cmd.TakeDataSnapshot)
# workflow.patched id of recording through a local activity (histories before used a regular one).
RECORD_LOCALLY = "record-through-local-activity"
# workflow.patched id of keeping the deadline's timer while the deadline stays (runs before started
# a timer and cancelled it again on every command).
KEEP_DEADLINE_TIMER = "keep-deadline-timer"
# workflow.patched id of a run taking its predecessor's search attributes as published (Temporal
# carries them across continue-as-new) and publishing nothing before the city has a record: runs
# before sent every attribute again when they started.
CARRIED_SEARCH_ATTRIBUTES = "carried-search-attributes"
# The SUSPENSIONS rules (domain/rules.py) for a cycle opened or a snapshot taken after them: runs
# recorded before opened theirs under the ROUNDS rules, and replay so.
SUSPENSION_RULES = "suspension-rules"
# Every patch above, in the order they came. A run citycert starts names them in its input
# (CityWorkflowInput.patched_at_start), so it never asks workflow.patched for them: the first ask
# in a run records a marker and upserts Temporal's TemporalChangeVersion search attribute, an
# upsert of its own (two per cycle, measured by bench/lifecycle.py). A patch added later is asked
# as before by the runs started without it, and joins this list for the runs started after it.
PATCHES: tuple[str, ...] = (
    HANDOVER_WHEN_FULL,
    RULES_PER_CYCLE,
    ROUNDS_RULES,
    RECORD_LOCALLY,
    KEEP_DEADLINE_TIMER,
    CARRIED_SEARCH_ATTRIBUTES,
    SUSPENSION_RULES,
)


class CityWorkflowInput(_Model):
    city_id: str
    policy: ProgrammePolicy = ProgrammePolicy()
    state: CityState | None = None  # carried across continue-as-new
    search_attributes: bool = True
    updates_per_run: int = UPDATES_PER_RUN
    # Whether the run tells people of due dates that are near (WarnOfDueDates). Runs started
    # before those warnings existed carry no such field and replay as they ran, so the default is
    # False; citycert starts every new run with True, and a run hands it on to the next.
    warn_before_due_dates: bool = False
    # The workflow.patched ids this run has on from its start, without asking (see PATCHES). Runs
    # started before the field existed carry none and ask for each, as they did when recorded.
    patched_at_start: tuple[str, ...] = ()


def new_run_input(
    city_id: str, policy: ProgrammePolicy | None = None, state: CityState | None = None, **options: Any
) -> CityWorkflowInput:
    """The input of a city workflow's run as citycert starts one: due-date warnings on, and every
    patch this code knows on from the start."""
    return CityWorkflowInput(
        city_id=city_id,
        policy=policy or ProgrammePolicy(),
        state=state,
        warn_before_due_dates=True,
        patched_at_start=PATCHES,
        **options,
    )


class GiveCommand(_Model):
    """A command, already its own class (told apart by `kind`), who gives it, and the application
    layer's proof that it was given through it: the `give` Update's argument, parsed once by the
    pydantic data converter."""

    command: cmd.AnyCommand
    actor: Actor
    proof: str = ""  # command_proof(...); runs recorded before proofs replay without one
    # The application layer's id for this call: the ids of the events it records derive from it
    # (command_event_id), so a caller whose Update failed can look them up in the store. Runs
    # recorded before it replay without one, their event ids drawn from workflow.uuid4() as then.
    request_id: str = ""


_EVENT_IDS = uuid.UUID("5f0c6a52-8a43-4c36-9c7e-1f2b7d0c9e11")  # the namespace of those ids


def command_event_id(request_id: str, index: int) -> uuid.UUID:
    """The id of the `index`-th event a command given under `request_id` records."""
    return uuid.uuid5(_EVENT_IDS, f"{request_id}/{index}")


# --- proof that a command comes from the application layer ---------------------------------------
#
# Anyone who reaches Temporal's frontend could otherwise give any city any command as anyone.
# The application layer signs each command (HMAC-SHA256 over the city, the actor and the command)
# with a key that the API and the workers hold as a setting, never in the database or in a
# workflow's history; the `give` validator checks it. The worker puts its key here when it starts:
# this module is passed through the sandbox, so every workflow of the process reads the same one.
# Only validators read it, and validators do not run on replay, so it never affects determinism.

_command_key: bytes | None = None


def configure_command_key(key: bytes) -> None:
    global _command_key
    _command_key = key


def command_proof(key: bytes, city_id: str, actor: Actor, command: cmd.Command, request_id: str = "") -> str:
    message = json.dumps(
        [city_id, actor.role, actor.id, command.model_dump(mode="json"), request_id],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def check_proof(city_id: str, request: GiveCommand) -> None:
    """Refuse (Unsigned) a command whose proof this worker cannot confirm."""
    if _command_key is None:
        raise ApplicationError("this worker holds no command key", type="Unsigned", non_retryable=True)
    expected = command_proof(_command_key, city_id, request.actor, request.command, request.request_id)
    if not hmac.compare_digest(expected, request.proof):
        raise ApplicationError(
            "the command does not carry the application layer's proof: give it through citycert",
            type="Unsigned",
            non_retryable=True,
        )


def check_role(actor: Actor, command: cmd.Command) -> None:
    """Refuse (NotAuthorized) a command the actor's role may not give (domain/authority.py)."""
    roles = roles_that_may_give(type(command))
    if actor.role not in roles:
        allowed = " or ".join(sorted(roles)) or "nobody"
        raise ApplicationError(
            f"a {actor.role} may not give {command.command_name()}; it needs the role {allowed}",
            type="NotAuthorized",
            non_retryable=True,
        )


# Commands that name who gives them, and the field that does: it must be the actor, so that no
# entry point can record one person's countersignature under another's name.
_NAMED_ACTOR = {
    cmd.ProposeImport: "proposed_by",
    cmd.CountersignImport: "countersigned_by",
    cmd.RejectImport: "rejected_by",
    cmd.WaiveSiteVisit: "approved_by",
    cmd.ExtendDeadline: "extended_by",
    cmd.DeclareNoConflict: "reviewer_id",
    cmd.DeclareConflict: "reviewer_id",
    cmd.SignOffReview: "reviewer_id",
    cmd.ReopenReviewItem: "reopened_by",
    cmd.CorrectCityProfile: "corrected_by",
    cmd.ImportPastCertification: "imported_by",
}


def check_named_actor(actor: Actor, command: cmd.Command) -> None:
    """Refuse (NotAuthorized) a command whose own record of who gives it is not the actor."""
    field = _NAMED_ACTOR.get(type(command))
    # A field left empty names nobody (a waiver given before approvers were named); the decider
    # says whether it may be empty.
    if field is not None and getattr(command, field) not in (None, actor.id):
        raise ApplicationError(
            f"{command.command_name()} names {getattr(command, field)!r} as {field} but is given by "
            f"{actor.id!r}",
            type="NotAuthorized",
            non_retryable=True,
        )


class CommandRequest(_Model):
    """A command by name with its fields, and who gives it: the retired `command` Update's argument,
    kept so that histories recorded through it replay (new calls are refused)."""

    name: str
    payload: dict[str, Any] = {}
    actor: Actor


class EventReceipt(BaseModel):
    """An event a command recorded, by id and type: its data is in the store, and in the history
    already as the recording activity's input, so the Update's result does not carry it again.
    Extra fields are ignored so that a result from a worker of the version before (whole events)
    still reads."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: uuid.UUID
    type: str


class CommandResult(_Model):
    """What a command recorded and where the city stands after it. A summary, not the whole state,
    and receipts, not the events: every Update's result is kept in the history (bench/lifecycle.py:
    ratio 0.79 -> 0.81 for the summary)."""

    events: list[EventReceipt]
    status: CitySummary


class CityView(_Model):
    """The workflow's own view for operators: where the city is and what it waits on."""

    city_id: str
    phase: Phase
    version: int
    open_items: list[str]
    deadlines: dict[str, datetime]


def parse_command(request: CommandRequest) -> cmd.Command:
    """The command a request names; ApplicationError (non-retryable) saying what is wrong if none."""
    kind = COMMANDS.get(request.name)
    if kind is None:
        raise ApplicationError(
            f"unknown command {request.name!r}; known: {', '.join(COMMANDS)}",
            type="InvalidCommand",
            non_retryable=True,
        )
    try:
        return kind.model_validate(request.payload)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or kind.__name__}: {err['msg']}" for err in e.errors()
        )
        raise ApplicationError(
            f"invalid {request.name}: {problems}", type="InvalidCommand", non_retryable=True
        ) from None


def refused(e: CommandRejected | InvalidCommand) -> ApplicationError:
    """A domain refusal for the caller: its message, and its class name as the type the API maps
    (CommandRejected 409; TooFrequent 429 with when to try again; IneligibleCity and InvalidCommand
    422). The last detail is the refusal as data (its template and values), so the caller can say
    it in a person's language (`refusal_in`)."""
    details: list[object] = [e.retry_at.isoformat()] if isinstance(e, TooFrequent) else []
    details.append(e.refusal.to_data())
    return ApplicationError(str(e), *details, type=type(e).__name__, non_retryable=True)


def refusal_in(error: ApplicationError) -> Refusal | None:
    """The domain's refusal an ApplicationError from `refused` carries; None from a worker that
    sent the words alone, or for an error that is not the domain's."""
    last = error.details[-1] if error.details else None
    if not isinstance(last, dict) or "template" not in last:
        return None
    try:
        return Refusal.from_data(last)
    except (KeyError, TypeError, ValueError):
        return None  # words from a newer or older worker that this one cannot read: English only


def refuse_timer_command(command: cmd.Command) -> None:
    """Timer commands are the workflow's own (its deadlines, the reminder sweep), never a person's."""
    if isinstance(command, cmd.TIMER_COMMANDS):
        raise ApplicationError(
            f"{command.command_name()} is given by the city's own timers, not by a person",
            type="InvalidCommand",
            non_retryable=True,
        )
