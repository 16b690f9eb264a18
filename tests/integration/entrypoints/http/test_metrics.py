"""/metrics on a port of its own: ours and the Temporal SDK's, after real commands through the API."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app.worker import watching_workflows
from eventstore import EventStore
from runtime import telemetry
from tests.integration.entrypoints.http.conftest import api_settings
from tests.integration.entrypoints.http.connected_api import connected_api
from tests.polling import eventually
from tests.temporal_env import free_port

REGISTERED = {"command": "RegisterCity", "outcome": "recorded"}
REFUSED = {"command": "RegisterCity", "outcome": "refused"}
REGISTRATIONS = {"method": "POST", "route": "/v1/cities", "status": "201"}
APPENDED = {"outcome": "appended"}


def now(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_scrape_after_commands_shows_them_counted_and_the_sdk_metrics(
    store: EventStore, tmp_path: Path
) -> None:
    port = free_port()
    before = {
        "registered": now("citycert_commands_total", REGISTERED),
        "refused": now("citycert_commands_total", REFUSED),
        "requests": now("citycert_http_request_duration_seconds_count", REGISTRATIONS),
        "appends": now("citycert_event_store_appends_total", APPENDED),
    }
    with telemetry.serving_metrics(api_settings(metrics_port=port)) as endpoint:
        assert endpoint is not None and endpoint.url == f"http://127.0.0.1:{port}/metrics"
        async with connected_api(store, tmp_path) as api:
            await api.register("metricton")
            again = await api.http.post(
                "/v1/cities",
                headers=await api.operator(),
                json={"id": "metricton", "name": "Metricton", "country": "US", "population": 120_000},
            )
            assert again.status_code == 409
            async with httpx.AsyncClient() as scraper:
                scraped = await scraper.get(endpoint.url)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    found = samples(scraped.text)

    def value(name: str, labels: dict[str, str]) -> float:
        return found.get((name, frozenset(labels.items())), 0.0)

    assert value("citycert_commands_total", REGISTERED) == before["registered"] + 1
    assert value("citycert_commands_total", REFUSED) == before["refused"] + 1
    # The request histogram, by route template: one more registration answered 201.
    assert value("citycert_http_request_duration_seconds_count", REGISTRATIONS) == before["requests"] + 1
    assert value("citycert_http_request_duration_seconds_bucket", {**REGISTRATIONS, "le": "+Inf"}) >= 1
    assert value("citycert_event_store_appends_total", APPENDED) >= before["appends"] + 1
    # The Temporal SDK's own, from the worker and client of this process, on the same endpoint.
    sdk = {name for name, _ in found if name.startswith("temporal_")}
    assert any(name.startswith("temporal_request") for name in sdk), sorted(sdk)
    assert any(name.startswith("temporal_worker_task_slots") for name in sdk), sorted(sdk)


async def test_a_city_workflow_that_stopped_shows_until_it_is_restarted(
    store: EventStore, tmp_path: Path
) -> None:
    async with connected_api(store, tmp_path, dev_server=True, workflow_check_every="PT0.1S") as api:
        assert api.env is not None and api.settings is not None
        await api.register("stopton")

        async def not_running() -> float:
            return now("citycert_workflows_not_running", {})

        async with watching_workflows(store, api.env.client, api.settings):
            await eventually(not_running, lambda n: n == 0)
            await api.env.client.get_workflow_handle("city-stopton").terminate(reason="a test")
            await eventually(not_running, lambda n: n == 1)
            await api.post("/v1/cities/stopton/workflow/restart", await api.operator())
            await eventually(not_running, lambda n: n == 0)
