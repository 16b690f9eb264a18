"""The composition root: the services a process needs, built once from its settings and connections.

The HTTP API builds them in its lifespan, the CLI per command, `citycert dev` once for the API and
the demo seed; every one of them then calls the same command service.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import Client

from app.commands import CommandService
from app.documents import Documents
from eventstore import EventStore
from runtime.documents import document_store
from runtime.keys import command_key
from runtime.settings import Settings

# How long a command waits for its events to be recorded before saying it was not confirmed.
COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: EventStore
    client: Client
    commands: CommandService
    documents: Documents


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
