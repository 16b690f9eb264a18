"""Every failure as a status code and one JSON body, models.Problem `{"error": ..., "detail": ...}`
(detail a message, or for `invalid_request` the list of problems); never a 500 for input.

The application's errors (app/errors.py) map to status codes in one table, `STATUS`: 404 unknown
city, 409 a command the rules refuse now, 429 one given more often than they allow, 422 a malformed
or ineligible request, 503 a service unavailable or a command not confirmed. The API's own answers
are 401 (no or bad token), 403 (a role or city the token does not hold) and 422 `invalid_request`
for a request that does not parse.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from app import errors
from app.errors import AppError, Forbidden, Invalid, NotFound, Refused, Unavailable
from app.problems import field_of, in_words
from eventstore import EventStoreError

log = structlog.get_logger("citycert.api")

# The one table from application errors to status codes; a subclass takes its nearest ancestor's.
STATUS: dict[type[AppError], int] = {
    AppError: 500,
    Invalid: 422,
    errors.UnsupportedDocument: 415,
    errors.DocumentTooLarge: 413,
    NotFound: 404,
    Forbidden: 403,
    Refused: 409,
    errors.TooFrequent: 429,
    Unavailable: 503,
}
RETRY_AFTER = {"Retry-After": "5"}
INVALID_REQUEST = "invalid_request"


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request and rendered by the handler."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        refusal: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})
        self.refusal = refusal

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.error, "detail": self.detail}
        if self.refusal is not None:
            body["refusal"] = self.refusal
        return JSONResponse(body, status_code=self.status, headers=self.headers or None)


def unauthenticated(detail: str) -> ApiError:
    return ApiError(401, "unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)


def status_of(e: AppError) -> int:
    return next(STATUS[kind] for kind in type(e).__mro__ if kind in STATUS)


def app_error(e: AppError) -> ApiError:
    status = status_of(e)
    headers = RETRY_AFTER if status == 503 else None
    if isinstance(e, errors.WorkflowNotRunning):
        headers = {"Retry-After": "60"}
    if isinstance(e, errors.TooFrequent) and e.retry_at is not None:
        wait = math.ceil((e.retry_at - datetime.now(UTC)).total_seconds())
        headers = {"Retry-After": str(max(wait, 1))}
    detail = e.message
    if e.internal is not None:
        # What the infrastructure said stays in the log, under an id the caller can quote.
        correlation_id = uuid.uuid4().hex[:12]
        log.warning("api.failure", code=e.code, internal=e.internal, correlation_id=correlation_id)
        detail = f"{e.message} (correlation id {correlation_id})"
    refusal = e.refusal.to_data() if e.refusal is not None else None
    return ApiError(status, e.code, detail, headers=headers, refusal=refusal)


def _field(loc: Sequence[Any]) -> str | None:
    """The field a problem names: its location less where it is (`body`, `query`, `path`)."""
    where, rest = (loc[0], loc[1:]) if loc else ("", ())
    field = field_of(rest)
    return "the body" if field is None and where == "body" else field


def _errors(problems: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors as plain JSON: location, the problem in words (app.problems: the field
    and what to send, never a pattern), type; no `ctx`, which may hold exceptions."""
    return [
        {
            "loc": list(err.get("loc", ())),
            "msg": in_words(err, _field(list(err.get("loc", ())))),
            "type": str(err.get("type", "")),
        }
        for err in problems
    ]


def invalid(problems: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"error": INVALID_REQUEST, "detail": problems}, status_code=422)


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
        if e.status_code == 400:
            # FastAPI's answer to a body it cannot decode (not UTF-8): as malformed as bad JSON, so
            # the same 422 invalid_request.
            return invalid([{"loc": ["body"], "msg": str(e.detail), "type": "body_undecodable"}])
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            e.status_code, "http_error"
        )
        return JSONResponse({"error": code, "detail": e.detail}, status_code=e.status_code, headers=e.headers)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, e: AppError) -> JSONResponse:
        return app_error(e).response()

    # What the infrastructure raises outside the command service (reads, token checks).
    for infrastructure in (
        EventStoreError,
        OSError,
        asyncpg.PostgresConnectionError,
        asyncpg.InterfaceError,
        RPCError,
        RuntimeError,
    ):

        @app.exception_handler(infrastructure)
        async def _infrastructure(request: Request, e: Exception) -> JSONResponse:
            translated = errors.translate(e)
            if translated is None:
                raise e
            return app_error(translated).response()
