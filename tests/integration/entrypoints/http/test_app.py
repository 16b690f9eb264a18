"""The app factory: with nothing injected, the lifespan connects to PostgreSQL and Temporal from
settings (migrating the store), serves, and closes what it opened."""

from __future__ import annotations

from app.tokens import create_token
from entrypoints.http import create_app
from eventstore import EventStore
from tests.integration.entrypoints.http.conftest import api_settings, app_client
from tests.temporal_env import time_skipping_environment


async def test_the_lifespan_connects_from_settings(databases) -> None:  # type: ignore[no-untyped-def]
    empty = await databases.create()  # not migrated: the API migrates on start
    async with time_skipping_environment() as env:
        target = env.client.service_client.config.target_host
        app = create_app(api_settings(database_url=empty, temporal_address=target))
        async with app.router.lifespan_context(app):
            services = app.state.services
            assert services is not None
            secret = await create_token(services.store, "operator")
            async with app_client(app) as http:
                response = await http.get("/v1/cities", headers={"Authorization": f"Bearer {secret}"})
                assert response.status_code == 200 and response.json() == []
                assert (await http.get("/health")).json() == {"database": "ok", "temporal": "ok"}
            store: EventStore = services.store
        assert app.state.services is None
        assert store.pool.is_closing(), "the store the lifespan opened is closed with it"
