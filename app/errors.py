"""What can go wrong when a person asks citycert for something, as typed errors with stable codes.

Every entry point shows these the same way: the HTTP API maps each class to a status code in one
table (entrypoints/http/errors.py), the CLI to an exit code in another (entrypoints/cli/context.py).
`translate` turns the infrastructure's own exceptions (Temporal, the event store, the driver) into
these, once, so no entry point needs to know what Temporal or asyncpg raise.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import asyncpg
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import Quoted, Refusal
from eventstore import EventStoreError, StoreUnavailable


class AppError(Exception):
    """A request that did not succeed; the message says why and what to do, `code` is stable.

    `internal` is what the infrastructure said (a driver's or Temporal's error text): for the log
    and an operator's terminal, never for an HTTP client, which gets the message and a correlation
    id to quote. `refusal` is the domain's refusal the message says, as data (its template and
    values, domain/errors.py), so a page can say it in the person's language; None for words the
    application wrote itself that no page shows.

    The application's own refusals are given as a `Refusal` in place of the message (its English
    template, a literal at the raise site, and the values it names), as the domain's are: the
    message is its English and a page says it in the person's language (the catalogs' extraction
    finds the template by its `Refusal(...)` call)."""

    code: ClassVar[str] = "error"

    def __init__(
        self,
        message: str | Refusal,
        *,
        code: str | None = None,
        internal: str | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        if isinstance(message, Refusal):
            refusal, message = message, message.english()
        super().__init__(message if internal is None else f"{message}: {internal}")
        self.message = message
        self.internal = internal
        self.refusal = refusal
        if code is not None:
            self.code = code  # type: ignore[misc]  # an instance may name itself more precisely


class Invalid(AppError):
    """Malformed whatever the city's state: a bad id, an unknown standard or criterion."""

    code = "invalid_command"


class Ineligible(Invalid):
    """The city cannot take part (population, country); nothing was recorded."""

    code = "ineligible_city"


class UnsupportedDocument(Invalid):
    """A document whose content is not one citycert accepts (an executable, an unknown format)."""

    code = "unsupported_media_type"


class DocumentTooLarge(Invalid):
    """A document larger than CITYCERT_DOCUMENTS_MAX_BYTES."""

    code = "too_large"


class NotFound(AppError):
    code = "not_found"


class UnknownCity(NotFound):
    code = "unknown_city"

    def __init__(self, city_id: str) -> None:
        super().__init__(Refusal("no city {city_id!r} is registered", city_id=city_id))
        self.city_id = city_id


class Forbidden(AppError):
    """The actor may not give this command (its role), or it did not come through citycert."""

    code = "forbidden"


class Refused(AppError):
    """The programme's rules refuse the command now; the message says what is allowed."""

    code = "command_rejected"


class Busy(Refused):
    """The city's state is moving on its own (a deadline being recorded, a cycle closing)."""

    code = "city_busy"


class TooFrequent(Refused):
    """The command is given more often than the programme allows; allowed again at `retry_at`."""

    code = "too_frequent"

    def __init__(
        self, message: str | Refusal, *, retry_at: datetime | None = None, refusal: Refusal | None = None
    ) -> None:
        super().__init__(message, refusal=refusal)
        self.retry_at = retry_at


class WorkflowRunning(Refused):
    """An operator asked to restart a city workflow that is running."""

    code = "workflow_running"


class Unavailable(AppError):
    """A service citycert needs did not answer or failed; the same request may work later."""

    code = "unavailable"


class NotConfirmed(Unavailable):
    """The command was sent but not confirmed in time: it may still be recorded."""

    code = "not_confirmed"


class NotRecorded(Unavailable):
    """The workflow accepted the command but could not record it; nothing was recorded."""

    code = "not_recorded"


class WorkflowNotRunning(Unavailable):
    code = "workflow_not_running"


class DatabaseUnavailable(Unavailable):
    code = "database_unavailable"


class TemporalUnavailable(Unavailable):
    code = "temporal_unavailable"


# Temporal answers that mean "not now, try again": the server is down, busy or slow.
_TEMPORAL_TRANSIENT = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.UNKNOWN,
    RPCStatusCode.INTERNAL,
}


def translate(e: BaseException) -> AppError | None:
    """The AppError an infrastructure exception means, or None for one that is a bug."""
    if isinstance(e, AppError):
        return e
    if isinstance(e, StoreUnavailable):
        return DatabaseUnavailable("the event store is unavailable", internal=str(e))
    if isinstance(e, EventStoreError):
        return Unavailable("the event store failed", code="database_error", internal=str(e))
    if isinstance(e, OSError | asyncpg.PostgresConnectionError | asyncpg.InterfaceError):
        return DatabaseUnavailable("the event store is unavailable", internal=str(e))
    if isinstance(e, RPCError):
        if e.status == RPCStatusCode.NOT_FOUND:
            # Temporal's words, in English (the workflow or run it has none of): a page says their gist.
            gist = Refusal("it never started, or it ended so long ago that Temporal no longer keeps it")
            return NotFound(
                Refusal("Temporal has no such workflow or run: {why}", why=Quoted(e.message, gist))
            )
        if e.status == RPCStatusCode.INVALID_ARGUMENT:
            # Temporal's words, in English (a request of ours it found wrong): a page says their gist.
            gist = Refusal("a value in it is not one Temporal accepts")
            return Invalid(Refusal("Temporal refused the request: {why}", why=Quoted(e.message, gist)))
        if e.status in _TEMPORAL_TRANSIENT:
            return TemporalUnavailable("Temporal is unavailable", internal=e.message or str(e))
        # PERMISSION_DENIED, UNAUTHENTICATED, FAILED_PRECONDITION...: our deployment, not the caller.
        return Unavailable("Temporal refused the request", code="temporal_refused", internal=e.message)
    if isinstance(e, RuntimeError) and "client connect" in str(e):
        # temporalio raises a bare RuntimeError("Failed client connect: ...") from a lazy client.
        return TemporalUnavailable("cannot connect to Temporal", internal=str(e))
    return None
