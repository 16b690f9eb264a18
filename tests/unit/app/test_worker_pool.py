"""How many worker processes `citycert worker` runs, and when it refuses to run several."""

from __future__ import annotations

import os

import pytest

from app.worker_pool import check_processes, default_processes
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
