"""The composition root: the services a process needs, built once from its settings and connections.

The HTTP API builds them in its lifespan, the CLI per command, `citycert dev` once for the API and
the demo seed; every one of them then calls the same command service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from temporalio.client import Client

from app.commands import CommandService
from app.documents import Documents
from eventstore import EventStore
from runtime.documents import document_store
from runtime.keys import command_key
from runtime.settings import Settings

# How long a command waits for its events to be recorded before saying it was not confirmed.
COMMAND_TIMEOUT = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: EventStore
    client: Client
    commands: CommandService
    documents: Documents
    # What time it is for the reads that depend on it (an announcement's embargo). The wall clock;
    # a test on the time-skipping Temporal server sets it to that server's time, so the embargo
    # and the awards it places follow one clock.
    clock: Callable[[], datetime] = field(default=utc_now)


def build_services(
    settings: Settings, store: EventStore, client: Client, *, command_timeout: float = COMMAND_TIMEOUT
) -> Services:
    commands = CommandService(
        store,
        client,
        policy=settings.policy(),
        task_queue=settings.temporal_task_queue,
        command_timeout=command_timeout,
        command_key=command_key(settings),
    )
    documents = Documents(store, document_store(settings), commands, max_bytes=settings.documents_max_bytes)
    return Services(settings=settings, store=store, client=client, commands=commands, documents=documents)
