"""The API over a Temporal client made the way citycert makes one (runtime.temporal.connect, so
with whatever runtime/telemetry.py has turned on), a worker built on that client, and a real
PostgreSQL: what the metrics and trace tests observe."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from activities import build_activities
from app.worker import build_worker
from entrypoints.http import create_app
from eventstore import EventStore
from runtime.temporal import connect
from tests.integration.entrypoints.http.conftest import Api, api_settings, app_client
from tests.scenarios import TEST_COMMAND_KEY
from tests.temporal_env import dev_server_environment, time_skipping_environment
from workflows import WORKFLOWS
from workflows.contracts import configure_command_key


@asynccontextmanager
async def connected_api(
    store: EventStore, tmp_path: Path, *, dev_server: bool = False, **settings: Any
) -> AsyncIterator[Api]:
    """The API, its worker and their client on the time-skipping server, or on the dev server
    (`dev_server`: it answers visibility queries)."""
    environment = dev_server_environment() if dev_server else time_skipping_environment()
    async with environment as env:
        config = api_settings(
            temporal_task_queue=f"test-{uuid.uuid4()}", documents_dir=tmp_path / "documents", **settings
        )
        client = await connect(config, address=env.client.service_client.config.target_host)
        configure_command_key(TEST_COMMAND_KEY)
        worker = build_worker(client, config, workflows=WORKFLOWS, activities=build_activities(store))
        async with worker:
            app = create_app(config, client=client, store=store)
            async with app_client(app) as http:
                yield Api(http=http, store=store, env=env, settings=config)
