"""ASGI middleware: one log line and one observation of the request metrics per request, and a cap
on request bodies."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime import telemetry


class RequestLog:
    """Logs each request's outcome once: method, path, status, city id, role, duration; and
    observes it in citycert_http_request_duration_seconds by method, route template and status.

    Handlers add fields (the role, the city) to a dict this middleware puts in the scope
    (entrypoints.http.auth.note); it is read after the response, whatever happened in between.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        fields: dict[str, Any] = {}
        scope["citycert.log"] = fields
        status = 500  # unless a response starts
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - started
            telemetry.observe_request(scope["method"], telemetry.route_of(scope), status, seconds)
            path_city = scope.get("path_params", {}).get("city_id")
            event = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "city_id": fields.pop("city_id", None) or path_city,
                "role": fields.pop("role", None),
                "duration_ms": round(seconds * 1000, 1),
                **fields,
            }
            logger = structlog.get_logger("citycert.api")
            if status >= 500:
                logger.error("api.request", **event)
            elif status >= 400:
                logger.warning("api.request", **event)
            else:
                logger.info("api.request", **event)


class BodyLimit:
    """Refuses a body larger than `max_bytes` with 413: at once when its Content-Length says so,
    and while it streams in otherwise (a chunked body has no length), so no request can make the
    API hold more than `max_bytes` of it, whatever it claims. A path matching one of `larger` (a
    document upload) has that cap instead."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Sequence[tuple[re.Pattern[str], int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = tuple(larger)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = next((cap for path, cap in self.larger if path.fullmatch(scope["path"])), self.max_bytes)
        detail = f"the body may be at most {max_bytes} bytes"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > max_bytes):
            await _reply(send, 413, "too_large", detail)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # FastAPI passes an HTTPException from reading the body on as it is (anything
                    # else becomes a 400); the app's handler answers it as 413 too_large.
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counting_receive, send)


async def _reply(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
