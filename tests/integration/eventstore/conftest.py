"""Fixtures for the event store tests: a store with a small test-only event registry, for the
behaviour that does not depend on the domain (ordering, idempotency, upcasting...)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from eventstore import EventStore
from tests.integration.eventstore.events import TEST_REGISTRY


@pytest.fixture
async def generic_store(database_url: str) -> AsyncIterator[EventStore]:
    store = await EventStore.connect(database_url, min_size=1, max_size=10, registry=TEST_REGISTRY)
    try:
        yield store
    finally:
        await store.close()
