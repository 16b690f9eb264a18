"""What the city workflow takes and gives: its input, the command request and result, its view,
and how a request becomes a domain command.

Kept apart from workflows/city.py so the sandbox can pass this module through: the workflow module
itself is re-imported for every run, and rebuilding these pydantic classes each time cost ~90 KiB
and ~2 ms per run (bench/lifecycle.py measured 306 -> 216 MiB at 1,000 open cities).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from activities.names import ActorRef, EventToRecord
from domain import CityState, CommandRejected, Phase, ProgrammePolicy
from domain import commands as cmd
from domain import events as ev
from domain.state import CitySummary

COMMANDS: dict[str, type[cmd.Command]] = {
    c.command_name(): c
    for c in (
        cmd.RegisterCity,
        cmd.TakeDataSnapshot,
        cmd.ApplyForCertification,
        cmd.SubmitEvidence,
        cmd.CloseEvidenceSubmission,
        cmd.AssignReviewer,
        cmd.ReviewEvidence,
        cmd.AnswerClarifications,
        cmd.ScheduleSiteVisit,
        cmd.CompleteSiteVisit,
        cmd.WaiveSiteVisit,
        cmd.DecideLevel,
        cmd.FileAppeal,
        cmd.DecideAppeal,
        cmd.Withdraw,
        cmd.ImportCertification,
    )
}
# Events after which this run's cycle is over and the next run starts from the folded state.
CYCLE_ENDS = (ev.CertificationAwarded, ev.CertificationCycleClosed, ev.CertificationLapsed)
TIMER = ActorRef(role="timer", id="workflow")
TIMER_RETRY_PAUSE = timedelta(hours=1)
SCHEDULER = ActorRef(role="scheduler", id="reminder-sweep")
RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["ConcurrencyConflict", "DuplicateEventConflict", "InvalidEventPayload"],
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CityWorkflowInput(_Model):
    city_id: str
    policy: ProgrammePolicy = ProgrammePolicy()
    state: CityState | None = None  # carried across continue-as-new
    search_attributes: bool = True


class CommandRequest(_Model):
    """A command by name with its fields, and who gives it."""

    name: str
    payload: dict[str, Any] = {}
    actor: ActorRef


class CommandResult(_Model):
    """The events a command recorded and where the city stands after it. A summary, not the whole
    state: every Update's result is kept in the history (bench/lifecycle.py: ratio 0.79 -> 0.81)."""

    events: list[EventToRecord]
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


def refused(e: CommandRejected) -> ApplicationError:
    return ApplicationError(str(e), type=type(e).__name__, non_retryable=True)
