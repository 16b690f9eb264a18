"""The unit tier: no servers. A test here that asks for PostgreSQL or Temporal fails at collection,
so `make test-fast` stays a matter of seconds and never starts one."""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT = Path(__file__).parent

SERVER_FIXTURES = frozenset(
    {"postgres_server_dsn", "databases", "database_url", "store", "generic_store", "api", "programme", "env"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Called with every collected item, not only this folder's.
    for item in (i for i in items if i.path.is_relative_to(UNIT)):
        wanted = SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if wanted:
            raise pytest.UsageError(
                f"{item.nodeid} is a unit test but asks for {', '.join(sorted(wanted))}: "
                "move it to tests/integration"
            )
