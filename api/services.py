"""What a request handler needs from the running app: settings, the event store, Temporal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client

from api.errors import ApiError
from citycert.settings import Settings
from domain import ProgrammePolicy
from eventstore import EventStore


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: EventStore
    client: Client
    policy: ProgrammePolicy
    task_queue: str
    command_timeout: float  # seconds to wait for a command's events to be recorded


def services(request: Request) -> Services:
    found: Services | None = getattr(request.app.state, "services", None)
    if found is None:
        raise ApiError(503, "starting", "the API is still connecting to its database and Temporal")
    return found


Svc = Annotated[Services, Depends(services)]
