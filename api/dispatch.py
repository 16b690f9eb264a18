"""Giving a command to a city's workflow: one Update, answered once its events are recorded.

The workflow's Update handler returns after the record_events activity, so a read that follows
the response sees the events. Refusals come back as WorkflowUpdateFailedError and are turned into
409/422 by api.errors.refusal; Temporal or the database being away becomes a 503.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from temporalio.client import (
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.names import ActorRef
from api.errors import ApiError, refusal, unknown_city
from api.models import CityStatus, CommandOut, EventOut
from api.services import Services
from citycert.tokens import TokenInfo
from domain import CommandRejected, IneligibleCity, decide
from domain import commands as cmd
from workflows.city import CityCertificationWorkflow, CityWorkflowInput, CommandRequest, CommandResult

# While a run hands over to the next, or records a deadline that has come, the validator answers
# CityBusy for a moment: the API waits and tries again instead of bothering the caller.
_BUSY_WAITS = (0.1, 0.2, 0.4, 0.8, 1.5)


def workflow_id(city_id: str) -> str:
    return f"city-{city_id}"


def _request(command: cmd.Command, who: TokenInfo) -> CommandRequest:
    payload = command.model_dump(mode="json")
    if "\\u0000" in json.dumps(payload):
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail in the activity.
        raise ApiError(422, "invalid_request", "text must not contain NUL characters")
    return CommandRequest(
        name=command.command_name(), payload=payload, actor=ActorRef(role=who.role, id=who.actor_id)
    )


async def _update(svc: Services, call: Callable[[], Awaitable[CommandResult]]) -> CommandResult:
    """Run one Update call, retrying while the cycle closes; refusals and timeouts as ApiErrors."""
    for wait in (*_BUSY_WAITS, None):
        try:
            return await asyncio.wait_for(call(), svc.command_timeout)
        except WorkflowUpdateFailedError as e:
            cause = e.cause
            if wait is not None and isinstance(cause, ApplicationError) and cause.type == "CityBusy":
                await asyncio.sleep(wait)
                continue
            raise refusal(e) from e
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as e:
            # Our wait ran out (the SDK reports its cancelled poll as the latter): the Update may
            # still complete, e.g. once the worker's database is back.
            raise ApiError(
                503,
                "not_confirmed",
                f"the command was not confirmed within {svc.command_timeout:g} s; it may still be recorded "
                "once the database is back: read the city's events before sending it again",
                headers={"Retry-After": "5"},
            ) from e
    raise AssertionError("unreachable: the last attempt returns or raises")


async def run_command(svc: Services, city_id: str, command: cmd.Command, who: TokenInfo) -> CommandResult:
    """Give `command` to the city's workflow as `who`; the result once its events are recorded."""
    request = _request(command, who)
    handle = svc.client.get_workflow_handle(workflow_id(city_id))
    try:
        return await _update(svc, lambda: handle.execute_update(CityCertificationWorkflow.command, request))
    except RPCError as e:
        if e.status != RPCStatusCode.NOT_FOUND:
            raise
        raise await _no_workflow(svc, city_id, command) from e


async def _no_workflow(svc: Services, city_id: str, command: cmd.Command) -> ApiError:
    """Why a city has no running workflow: unknown (404), withdrawn (409), or not restarted (503)."""
    state = await svc.store.load_state(city_id)
    if state.version == 0:
        return unknown_city(city_id)
    try:
        decide(state, command, now=datetime.now(UTC), policy=svc.policy)
    except CommandRejected as e:
        return ApiError(409, "command_rejected", str(e))
    return ApiError(
        503,
        "workflow_not_running",
        f"the workflow of {city_id!r} is not running; an operator must restart it",
        headers={"Retry-After": "60"},
    )


async def register_city(svc: Services, command: cmd.RegisterCity, who: TokenInfo) -> CommandResult:
    """Register a city and start its workflow in one Update-with-start.

    The domain decides first, on the stored state: an ineligible or known city is refused before
    anything starts, so a refusal records nothing and leaves no workflow behind.
    """
    state = await svc.store.load_state(command.city_id)
    try:
        decide(state, command, now=datetime.now(UTC), policy=svc.policy)
    except IneligibleCity as e:
        raise ApiError(422, "ineligible_city", str(e)) from e
    except CommandRejected as e:
        raise ApiError(409, "command_rejected", str(e)) from e
    request = _request(command, who)

    async def call() -> CommandResult:
        # A fresh operation per attempt: one carries the handle of its own start.
        start = WithStartWorkflowOperation(
            CityCertificationWorkflow.run,
            CityWorkflowInput(city_id=command.city_id, policy=svc.policy),
            id=workflow_id(command.city_id),
            task_queue=svc.task_queue,
            # A workflow left from an attempt that failed before recording gets the command.
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        result: CommandResult = await svc.client.execute_update_with_start_workflow(
            CityCertificationWorkflow.command, request, start_workflow_operation=start
        )
        return result

    return await _update(svc, call)


async def send(svc: Services, city_id: str, command: cmd.Command, who: TokenInfo) -> CommandOut:
    """Run a command and answer as every command endpoint does."""
    return CommandOut(**command_out(city_id, await run_command(svc, city_id, command, who)))


def command_out(city_id: str, result: CommandResult) -> dict[str, Any]:
    """The fields every command response has: the events recorded and the city's status after."""
    return {
        "city_id": city_id,
        "events": [
            EventOut(event_id=e.event_id, type=e.type, occurred_at=e.occurred_at, data=e.data)
            for e in result.events
        ],
        "status": CityStatus.from_summary(result.status),
    }
