"""The API over a real PostgreSQL and the real Temporal time-skipping server with a real worker,
driven through httpx's ASGI transport (no sockets, no lifespan: the app gets its client and store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from app.rounds import all_rounds, create_round
from app.tokens import create_token
from domain import Actor
from domain.standard import get_standard
from entrypoints.http import create_app
from eventstore import EventStore
from runtime.settings import Settings
from tests.integration.workflows.harness import running_worker
from tests.scenarios import TEST_COMMAND_KEY, round_record
from tests.temporal_env import time_skipping_environment


def api_settings(**overrides: Any) -> Settings:
    """The API's settings in these tests: the command key their workers check, and no data dir of
    the checkout's (overrides as given)."""
    return Settings(**{"command_key": TEST_COMMAND_KEY.decode(), **overrides})


CRITERIA = list(get_standard("wwc-2022").in_earning_order())  # the level requirements first
DOCS = [{"title": "Evidence pack", "url": "https://example.org/pack.pdf"}]


@dataclass
class Api:
    """An HTTP client on the app, with a token per role made on demand."""

    http: httpx.AsyncClient
    store: EventStore
    env: WorkflowEnvironment | None
    settings: Settings | None = None
    tokens: dict[tuple[str, str | None, str | None], str] = field(default_factory=dict)

    async def token(self, role: str, city: str | None = None, name: str | None = None) -> str:
        key = (role, city, name)
        if key not in self.tokens:
            self.tokens[key] = await create_token(self.store, role, city=city, name=name)
        return self.tokens[key]

    async def as_(self, role: str, city: str | None = None, name: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(role, city, name)}"}

    async def operator(self) -> dict[str, str]:
        return await self.as_("operator", name="op-1")

    async def committee(self) -> dict[str, str]:
        return await self.as_("committee", name="chair")

    async def city(self, city_id: str) -> dict[str, str]:
        return await self.as_("city", city_id, name=f"staff-{city_id}")

    async def reviewer(self, home: str = "riverton", name: str = "rev-ana") -> dict[str, str]:
        return await self.as_("reviewer", home, name=name)

    async def open_round(self, round_id: str) -> None:
        """The round an application names, opened by the programme unless the test already did
        (tests/scenarios.round_record), recorded as an operator's beside the others."""
        if round_id in {r.round_id for r in await all_rounds(self.store)}:
            return
        await create_round(
            self.store, round_record(round_id), Actor(role="operator", id="op-1"), may_overlap=True
        )

    async def post(self, path: str, headers: dict[str, str], body: Any = None, expect: int = 200) -> Any:
        if path.endswith("/application") and isinstance(body, dict) and isinstance(body.get("round_id"), str):
            await self.open_round(body["round_id"])
        response = await self.http.post(path, headers=headers, json=body)
        assert response.status_code == expect, (path, response.status_code, response.text)
        return response.json()

    async def get(self, path: str, headers: dict[str, str], expect: int = 200, **params: Any) -> Any:
        response = await self.http.get(path, headers=headers, params=params)
        assert response.status_code == expect, (path, response.status_code, response.text)
        return response.json()

    async def register(self, city_id: str, population: int = 120_000, country: str = "US") -> Any:
        body = {"id": city_id, "name": city_id.title(), "country": country, "population": population}
        return await self.post("/v1/cities", await self.operator(), body, expect=201)


def app_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://citycert.test")


@pytest.fixture
async def api(store: EventStore, tmp_path: Path) -> AsyncIterator[Api]:
    """The API with a worker on the time-skipping server: one server per test, because its clock
    is global and a test's leftover timers would fire into the next test's sleeps. Documents go to
    the test's own folder."""
    async with time_skipping_environment() as env, running_worker(env, store) as queue:
        config = api_settings(temporal_task_queue=queue, documents_dir=tmp_path / "documents")
        app = create_app(config, client=env.client, store=store)
        async with app_client(app) as http:
            yield Api(http=http, store=store, env=env, settings=config)
