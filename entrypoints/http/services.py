"""The request handlers' way to the process's services (app.services), built by the lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.services import Services
from entrypoints.http.errors import ApiError


def services(request: Request) -> Services:
    found: Services | None = getattr(request.app.state, "services", None)
    if found is None:
        raise ApiError(503, "starting", "the API is still connecting to its database and Temporal")
    return found


Svc = Annotated[Services, Depends(services)]
