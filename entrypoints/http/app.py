"""The HTTP API of citycert (FastAPI): JSON in and out under /v1, OpenAPI at /docs.

`create_app(settings, client=..., store=...)` takes a Temporal client and an event store when the
caller has them (tests, `citycert dev`); whatever is missing the lifespan connects from settings
(the embedded PostgreSQL and Temporal dev server when no address is set) and closes on the way out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from temporalio.client import Client

from app.credentials import CredentialSigner, issuer_of
from app.services import build_services
from entrypoints.http import errors
from entrypoints.http.auth import AuthenticateFirst
from entrypoints.http.middleware import BodyLimit, RequestLog
from entrypoints.http.openapi import document
from entrypoints.http.routes_certification import router as certification
from entrypoints.http.routes_cities import router as cities
from entrypoints.http.routes_committee import router as committee
from entrypoints.http.routes_documents import MULTIPART_ROOM, UPLOAD_PATH
from entrypoints.http.routes_documents import router as documents
from entrypoints.http.routes_people import router as people
from entrypoints.http.routes_programme import router as programme
from entrypoints.http.routes_public import router as public
from entrypoints.http.routes_public_credentials import STATE_KEY as CREDENTIAL_SIGNER
from entrypoints.http.routes_public_credentials import router as public_credentials
from entrypoints.http.routes_reports import health
from entrypoints.http.routes_reports import router as reports
from entrypoints.http.routes_review import router as review
from entrypoints.http.routes_round_report import router as round_report
from entrypoints.http.routes_rounds import public as public_rounds
from entrypoints.http.routes_rounds import router as rounds
from entrypoints.http.routes_tokens import router as tokens
from entrypoints.web import mount as mount_portal
from entrypoints.web.fragments import moved, watching_the_log
from entrypoints.web.routes_city_pages import UPLOAD_PAGES
from eventstore import EventStore
from runtime import telemetry
from runtime.credential_key import credential_key
from runtime.settings import Settings
from runtime.store import open_store
from runtime.temporal import open_temporal

log = structlog.get_logger("citycert.api")

DESCRIPTION = """
Runs the city data-excellence certification programme: cities register, take a data snapshot,
apply, submit evidence; reviewers review; the committee decides; cities may appeal.

Every request needs `Authorization: Bearer <token>` (create one with `citycert token create`); the
token is checked before the body is read. Tokens expire (90 days, operators' 7 days); operators
list, revoke and rotate them under `/v1/tokens`.
A command answers once its events are recorded, so a read that follows sees them.
Errors are `{"error": code, "detail": message}` (for `invalid_request` the detail lists every
problem): 401 no valid token (the detail says whether it is unknown, expired or revoked), 403 a
role or city the token does not hold, 404 unknown city (or token), 409 not allowed now (the
detail says why and what is allowed), 413 a body too large, 422 a malformed request, 503 the
database or Temporal is unavailable (try again). Each operation lists the ones it can answer.
"""


def create_app(
    settings: Settings,
    *,
    client: Client | None = None,
    store: EventStore | None = None,
    command_timeout: float = 30.0,
    max_body_bytes: int = 1_000_000,
) -> FastAPI:
    """The API over `client` and `store`, or over connections the lifespan opens from settings."""

    def wire(app: FastAPI, store: EventStore, client: Client) -> None:
        app.state.services = build_services(settings, store, client, command_timeout=command_timeout)
        # A command given here, or an event this process appends itself (a round, a person), shows
        # on its giver's next page (the portal's kept parts).
        app.state.services.commands.on_recorded.append(lambda: moved(app))
        store.on_appended.append(lambda: moved(app))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if store is None:
                the_store = await stack.enter_async_context(open_store(settings))
            else:
                the_store = store
            if client is None:
                the_client, _ = await stack.enter_async_context(
                    open_temporal(settings, start_dev_server=False)
                )
            else:
                the_client = client
            wire(app, the_store, the_client)
            # One watcher of the log per process, for the portal's kept parts.
            await stack.enter_async_context(watching_the_log(app, the_store, settings.web_events_poll_ms))
            log.info("api.started", task_queue=settings.temporal_task_queue)
            yield
            app.state.services = None

    app = FastAPI(
        title="citycert",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.services = None
    # Read once at start-up: a key file that is not an Ed25519 key stops the API with the reason.
    key = credential_key(settings)
    setattr(app.state, CREDENTIAL_SIGNER, CredentialSigner(key, issuer_of(settings)) if key else None)
    if store is not None and client is not None:
        wire(app, store, client)  # usable at once, also where no lifespan runs (ASGI test transports)
    errors.install(app)
    routers = (
        cities,
        certification,
        review,
        committee,
        programme,
        people,
        documents,
        reports,
        tokens,
        health,
        public_credentials,
        round_report,
        rounds,
        public_rounds,
        public,
    )
    for router in routers:
        app.include_router(router)
    mount_portal(app)  # the pages for people (entrypoints/web): none of them in the OpenAPI document

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app, routers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to adjust the document
    uploads = (UPLOAD_PATH, settings.documents_max_bytes + MULTIPART_ROOM)
    # The portal's evidence and answer forms carry documents too (entrypoints/web/routes_city_pages.py).
    page_uploads = (UPLOAD_PAGES, settings.documents_max_bytes + MULTIPART_ROOM)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, larger=[uploads, page_uploads])
    app.add_middleware(AuthenticateFirst)  # outside the cap: no body is read before the token is good
    app.add_middleware(RequestLog)  # added last: outermost, so it sees every answer, 413 included
    telemetry.instrument_api(app)  # a span per request when tracing is on (runtime/telemetry.py)
    return app
