"""How many worker processes `citycert worker` runs, and when it refuses to run several."""

from __future__ import annotations

import os

import pytest

from app.worker_pool import check_processes, default_processes, metrics_port_of
from runtime.process import StartupError
from runtime.settings import Settings

SHARED = Settings(database_url="postgresql://db/citycert", temporal_address="temporal:7233")
EMBEDDED = Settings(database_url=None, temporal_address=None)


def test_with_shared_servers_it_runs_one_process_per_core() -> None:
    assert default_processes(SHARED) == (os.cpu_count() or 1)


def test_with_embedded_servers_it_runs_one_process() -> None:
    assert default_processes(EMBEDDED) == 1
    check_processes(EMBEDDED, 1)


def test_several_processes_on_embedded_servers_are_refused_saying_what_to_set() -> None:
    with pytest.raises(StartupError, match="needs CITYCERT_DATABASE_URL and CITYCERT_TEMPORAL_ADDRESS"):
        check_processes(EMBEDDED, 2)


def test_several_processes_on_shared_servers_are_fine() -> None:
    check_processes(SHARED, 4)


def test_each_process_of_a_pool_serves_its_metrics_on_a_port_of_its_own() -> None:
    settings = SHARED.model_copy(update={"metrics_port": 9465})
    ports = [metrics_port_of(settings, slot) for slot in range(3)]
    assert ports == [9465, 9466, 9467] and len(set(ports)) == 3


def test_a_pool_without_a_metrics_port_serves_no_metrics() -> None:
    assert metrics_port_of(SHARED, 0) is None and metrics_port_of(SHARED, 3) is None


def test_a_pool_whose_metrics_ports_would_run_past_the_last_port_is_refused() -> None:
    check_processes(SHARED.model_copy(update={"metrics_port": 65534}), 2)
    with pytest.raises(StartupError, match="metrics ports 65534 to 65536"):
        check_processes(SHARED.model_copy(update={"metrics_port": 65534}), 3)
