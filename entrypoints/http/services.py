"""The request handlers' way to the process's services (app.services), built by the lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.commands import CommandService
from app.services import Services
from entrypoints.http.errors import ApiError
from entrypoints.http.openapi import answers


@answers(503)
def services(request: Request) -> Services:
    found: Services | None = getattr(request.app.state, "services", None)
    if found is None:
        raise ApiError(503, "starting", "the API is still connecting to its database and Temporal")
    return found


Svc = Annotated[Services, Depends(services)]


@answers(409, 422, 503)
def command_service(svc: Svc) -> CommandService:
    """The command service, for a route that gives a command: refused now, malformed for the
    domain, or not recorded are the answers a command may get."""
    return svc.commands


Commands = Annotated[CommandService, Depends(command_service)]


@answers(409, 503)
def workflow_service(svc: Svc) -> CommandService:
    """The command service, for an operator's route on a city's workflow (a restart): refused while
    the workflow runs or after a withdrawal, or Temporal unavailable; it takes no command to check."""
    return svc.commands


Workflows = Annotated[CommandService, Depends(workflow_service)]
