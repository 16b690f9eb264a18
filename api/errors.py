"""Every failure as a status code and a JSON body `{"error": ..., "detail": ...}`; never a 500 for input.

- 401 no or bad token; 403 a role or city the token does not hold; 404 unknown city or route;
- 409 a command the rules refuse now (the workflow's validator: ApplicationError CommandRejected);
- 422 a malformed body, or an InvalidCommand / IneligibleCity refusal;
- 503 PostgreSQL or Temporal unavailable (StoreUnavailable, asyncpg connection errors, Temporal's
  RPCError UNAVAILABLE and friends, a client that cannot connect).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from eventstore import EventStoreError, StoreUnavailable

log = structlog.get_logger("citycert.api")

# Business refusals by the ApplicationError type the workflow gives them.
_REFUSAL_STATUS = {"CommandRejected": 409, "CityBusy": 409, "IneligibleCity": 422, "InvalidCommand": 422}
_REFUSAL_CODE = {
    "CommandRejected": "command_rejected",
    "CityBusy": "city_busy",
    "IneligibleCity": "ineligible_city",
    "InvalidCommand": "invalid_command",
}
# Temporal answers that mean "not now, try again": the server is down, busy or slow.
_TEMPORAL_UNAVAILABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.INTERNAL,
}
RETRY_AFTER = {"Retry-After": "5"}


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request and rendered by the handler."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: Any,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"error": self.error, "detail": self.detail, **self.extra}
        return JSONResponse(body, status_code=self.status, headers=self.headers or None)


def unauthenticated(detail: str) -> ApiError:
    return ApiError(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)


def unknown_city(city_id: str) -> ApiError:
    return ApiError(404, "unknown_city", f"no city {city_id!r} is registered")


def store_unavailable(e: BaseException) -> ApiError:
    return ApiError(503, "database_unavailable", f"the event store is unavailable: {e}", headers=RETRY_AFTER)


def temporal_unavailable(e: BaseException) -> ApiError:
    return ApiError(503, "temporal_unavailable", f"Temporal is unavailable: {e}", headers=RETRY_AFTER)


def refusal(e: WorkflowUpdateFailedError) -> ApiError:
    """The workflow refused a command (its validator or handler), or could not record it."""
    cause = e.cause
    if isinstance(cause, ApplicationError) and cause.type in _REFUSAL_STATUS:
        assert cause.type is not None
        return ApiError(_REFUSAL_STATUS[cause.type], _REFUSAL_CODE[cause.type], cause.message)
    inner = cause.cause if isinstance(cause, ActivityError) else None
    if isinstance(inner, ApplicationError) and inner.type == "InvalidEventPayload":
        # The store refused the event's shape: the input, not the service, is at fault.
        return ApiError(422, "invalid_command", inner.message)
    detail = cause.message if isinstance(cause, ApplicationError) else str(cause)
    return ApiError(
        503, "not_recorded", f"the command was not recorded, try again: {detail}", headers=RETRY_AFTER
    )


def rpc_error(e: RPCError) -> ApiError:
    if e.status == RPCStatusCode.NOT_FOUND:
        return ApiError(404, "not_found", e.message)
    if e.status == RPCStatusCode.INVALID_ARGUMENT:
        return ApiError(422, "invalid_command", f"Temporal refused the request: {e.message}")
    if e.status in _TEMPORAL_UNAVAILABLE:
        return temporal_unavailable(e)
    # PERMISSION_DENIED, UNAUTHENTICATED, FAILED_PRECONDITION...: our deployment, not the caller.
    return ApiError(
        503, "temporal_refused", f"Temporal refused the request: {e.message}", headers=RETRY_AFTER
    )


def _errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors as plain JSON: location, message, type (no `ctx`: it may hold exceptions)."""
    return [
        {
            "loc": list(err.get("loc", ())),
            "msg": str(err.get("msg", "")).removeprefix("Value error, "),
            "type": str(err.get("type", "")),
        }
        for err in errors
    ]


def invalid(errors: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "detail": errors}, status_code=422)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every known failure into its status code."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, e: ApiError) -> JSONResponse:
        return e.response()

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        return invalid(_errors(e.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status_code, "http_error")
        return JSONResponse({"error": code, "detail": e.detail}, status_code=e.status_code, headers=e.headers)

    @app.exception_handler(StoreUnavailable)
    async def _store_down(request: Request, e: StoreUnavailable) -> JSONResponse:
        return store_unavailable(e).response()

    @app.exception_handler(EventStoreError)
    async def _store_error(request: Request, e: EventStoreError) -> JSONResponse:
        log.warning("api.store_error", error=str(e))
        return ApiError(503, "database_error", f"the event store failed: {e}", headers=RETRY_AFTER).response()

    for driver_error in (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):

        @app.exception_handler(driver_error)
        async def _driver_down(request: Request, e: Exception) -> JSONResponse:
            return store_unavailable(e).response()

    @app.exception_handler(RPCError)
    async def _rpc(request: Request, e: RPCError) -> JSONResponse:
        return rpc_error(e).response()

    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _update_timeout(request: Request, e: WorkflowUpdateRPCTimeoutOrCancelledError) -> JSONResponse:
        return temporal_unavailable(e).response()

    @app.exception_handler(RuntimeError)
    async def _runtime(request: Request, e: RuntimeError) -> JSONResponse:
        # temporalio raises a bare RuntimeError("Failed client connect: ...") from a lazy client.
        if "client connect" in str(e):
            return temporal_unavailable(e).response()
        raise e
