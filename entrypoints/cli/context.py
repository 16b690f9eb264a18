"""What the data commands of the CLI share: settings, the store, Temporal, and one way to fail.

Every command that touches data reads the same `Settings()` as the worker, the API and `citycert dev`
(CITYCERT_* variables), so beside a running `citycert dev` they reach its database and Temporal.

Exit codes, the same for every command:
- 0: done;
- 1: a problem was found (verify, replay) or a service failed: the database or Temporal is
  unavailable, or a command was not confirmed in time;
- 2: the request cannot be done as given: a bad option or argument, a bad setting, an unknown city,
  or a command the programme's rules refuse now (an ineligible city, a conflict of interest, a
  review of an item not awaiting one...), a restart of a city workflow that runs. The message on
  stderr says why.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer
from pydantic import ValidationError

from entrypoints.cli.output import fail

if TYPE_CHECKING:
    from temporalio.client import Client

    from app.errors import AppError
    from app.services import Services
    from domain import Actor
    from eventstore import EventStore
    from runtime.settings import Settings

T = TypeVar("T")


def exit_code(e: AppError) -> int:
    """The one table from application errors to exit codes; a subclass takes its nearest ancestor's."""
    from app import errors

    codes: dict[type[AppError], int] = {
        errors.AppError: 1,
        errors.Invalid: 2,
        errors.NotFound: 2,
        errors.Forbidden: 2,
        errors.Refused: 2,
        errors.Unavailable: 1,
    }
    return next(codes[kind] for kind in type(e).__mro__ if kind in codes)


def load_settings() -> Settings:
    """Settings from the environment; a bad value exits 2 naming the variable."""
    from runtime import settings
    from runtime.process import StartupError

    try:
        return settings.load_settings()
    except StartupError as e:
        raise fail(str(e)) from None


def invalid_input(e: ValidationError, names: dict[str, str] | None = None) -> typer.Exit:
    """A pydantic refusal of what the user typed, with field names as the command spells them."""
    from app.problems import field_of, in_words

    names = names or {}
    problems = []
    for err in e.errors(include_url=False):
        # The words the API gives (app.problems), the field named as the command spells it.
        field = field_of(err["loc"])
        where = names.get(field, field) if field else None
        message = in_words(err, where)
        problems.append(f"{where}: {message}" if where and not message.startswith(where) else message)
    return fail("; ".join(problems))


class _Stderr:
    """sys.stderr as it is when a line is written (test runners swap it per invocation)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


_logging_configured = False


def quiet_logging() -> None:
    """Warnings and errors only, on stderr: stdout carries the command's answer (a token, JSON)."""
    global _logging_configured
    if _logging_configured:
        return
    from runtime.logging import configure_logging

    configure_logging("WARNING", stream=_Stderr(), forward_temporal_core=False)  # type: ignore[arg-type]
    _logging_configured = True


def run(work: Callable[[], Awaitable[T]]) -> T:
    """Run a command's async body; infrastructure failures exit 1 with one line, not a traceback."""
    quiet_logging()
    with failures_as_exits():
        return asyncio.run(_call(work))


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


@contextmanager
def failures_as_exits() -> Iterator[None]:
    from app.errors import translate
    from runtime.embedded_temporal import TemporalStartError
    from runtime.process import StartupError
    from runtime.temporal import SearchAttributeError

    try:
        yield
    except (StartupError, TemporalStartError, SearchAttributeError) as e:
        raise fail(str(e), 1) from None
    except TimeoutError as e:
        raise fail(f"could not reach a service: {e}", 1) from None
    except Exception as e:
        translated = translate(e)  # None: a bug (or typer's own Exit), raised as it is
        if translated is None:
            raise
        raise fail(str(translated), exit_code(translated)) from None  # an operator sees it all


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[EventStore]:
    """The event store of these settings (the embedded server when no URL is set), migrated; a
    one-shot command needs a few connections and leaves the embedded server running."""
    from runtime.store import open_store as open_runtime_store

    async with open_runtime_store(settings, max_connections=4) as store:
        yield store


def temporal_reachable(settings: Settings) -> bool:
    """False only when no address is set and no embedded dev server listens on its port."""
    from runtime import embedded_temporal
    from runtime.process import port_answers

    return settings.temporal_address is not None or port_answers(
        embedded_temporal.HOST, settings.temporal_port
    )


@asynccontextmanager
async def open_temporal(settings: Settings) -> AsyncIterator[Client]:
    """A client for these settings: the configured cluster or the dev server of `citycert dev`,
    never one started here (with no server running there is no worker either). Registering
    search attributes is the worker's job (it needs operator rights on a cluster)."""
    from runtime.temporal import open_temporal as open_runtime_temporal

    async with open_runtime_temporal(settings, start_dev_server=False) as (client, _):
        yield client


def operator_actor() -> Actor:
    """Who the events of an operator's CLI command name: `cli:<login>(uid <uid>)`.

    Such a command acts without a token (the operator holds the database and the command key), so
    the actor is the operating-system account that ran it: the uid, and the login the system's
    user database gives for it (not $USER or $LOGNAME, which anyone sets). A token's identity can
    never look like it (token names have no ':')."""
    from domain import Actor

    uid = os.getuid()
    try:
        login = pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid with no entry (a container's arbitrary user)
        login = "unknown"
    return Actor(role="operator", id=f"cli:{login}(uid {uid})")


TOKEN_ENV = "CITYCERT_TOKEN"


def token_secret(token_file: Path | None) -> str:
    """The token a command acts with: from --token-file, else from CITYCERT_TOKEN; exit 2 without.

    Never from an argument: a command line is visible to every user of the machine (`ps`)."""
    if token_file is not None:
        try:
            secret = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise fail(
                f"cannot read --token-file {str(token_file)!r}: {getattr(e, 'strerror', None) or e}"
            ) from None
        if not secret:
            raise fail(f"--token-file {str(token_file)!r} is empty")
        return secret
    secret = os.environ.get(TOKEN_ENV, "").strip()
    if not secret:
        raise fail(
            f"this command acts with a token: set {TOKEN_ENV} or give --token-file PATH "
            "(`citycert token create` makes one)"
        )
    return secret


@dataclass
class Connected:
    settings: Settings
    store: EventStore
    client: Client | None = None

    @asynccontextmanager
    async def temporal(self) -> AsyncIterator[Client]:
        """Connect to Temporal for this block (a command that found the request good)."""
        async with open_temporal(self.settings) as client:
            self.client = client
            try:
                yield client
            finally:
                self.client = None

    def services(self) -> Services:
        """The application's services over these connections."""
        from app.services import build_services

        assert self.client is not None, "this command opened no Temporal client"
        return build_services(self.settings, self.store, self.client)


@asynccontextmanager
async def connected(settings: Settings, *, temporal: bool = False) -> AsyncIterator[Connected]:
    """The store, and with `temporal` a client that can reach a worker (or later: ctx.temporal())."""
    async with open_store(settings) as store:
        ctx = Connected(settings, store)
        if not temporal:
            yield ctx
            return
        async with ctx.temporal():
            yield ctx
