"""The token is checked first: a request without a valid token is answered 401 before its body is
read, on a real uvicorn server and a real socket; expired and revoked tokens are told so."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from app.tokens import create_token, issue_token, revoke_token
from entrypoints.dev.runtime import running_api
from entrypoints.http import create_app
from eventstore import EventStore
from tests.integration.entrypoints.http.conftest import api_settings, app_client
from tests.temporal_env import free_port

# Not a timing assertion: how long to wait for an answer that must come, before calling it a hang
# (the server that reads the body first never answers while the client holds the rest back).
NO_ANSWER = 30.0
DECLARED = 900_000  # under the 1 MB cap, so only the token can refuse the request early


async def _no_temporal() -> Client:
    """A client for a port nothing listens on: these requests never reach Temporal."""
    return await Client.connect(f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter)


@pytest.fixture
async def server(store: EventStore) -> AsyncIterator[int]:
    """The API on a real uvicorn server on a free port; the port."""
    settings = api_settings(api_port=free_port())
    app = create_app(settings, client=await _no_temporal(), store=store)
    async with running_api(app, settings, asyncio.Event()):
        yield settings.api_port


async def _start_a_slow_post(
    port: int, token: str, *, chunked: bool
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """POST /v1/cities with the headers and the first bytes of a large body, the rest held back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {DECLARED}\r\n".encode()
    writer.write(
        b"POST /v1/cities HTTP/1.1\r\nHost: citycert.test\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + framing
        + b"\r\n"
    )
    first = b"{}" + b" " * 998
    writer.write(f"{len(first):x}\r\n".encode() + first + b"\r\n" if chunked else first)
    await writer.drain()
    return reader, writer


async def _status_line(reader: asyncio.StreamReader) -> bytes:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), NO_ANSWER)
    return head.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_bad_token_is_refused_before_the_body_is_read(
    server: int, store: EventStore, chunked: bool
) -> None:
    revoked = await issue_token(store, "operator", name="leaver")
    assert await revoke_token(store, revoked.info.id)
    for token in ("cct_not-a-token", revoked.secret):
        # Given a client that has sent 1,000 bytes of a 900,000-byte body, and holds the rest back,
        reader, writer = await _start_a_slow_post(server, token, chunked=chunked)
        try:
            # then the answer is a 401 while the body is still unsent: the server did not wait for it.
            assert await _status_line(reader) == b"HTTP/1.1 401 Unauthorized"
        finally:
            writer.close()


async def test_a_good_token_s_body_is_read_as_before(server: int, store: EventStore) -> None:
    operator = await create_token(store, "operator", name="op-1")
    reader, writer = await _start_a_slow_post(server, operator, chunked=False)
    try:
        # When the client sends the rest of the body, the route reads it and judges it (no fields).
        writer.write(b" " * (DECLARED - 1000))
        await writer.drain()
        assert await _status_line(reader) == b"HTTP/1.1 422 Unprocessable Entity"
    finally:
        writer.close()


async def test_an_expired_or_revoked_token_gets_a_401_saying_which(store: EventStore) -> None:
    app = create_app(api_settings(), client=await _no_temporal(), store=store)
    expired = await issue_token(store, "committee", name="chair")
    revoked = await issue_token(store, "committee", name="former-chair")
    async with store.connection() as conn:
        await conn.execute("UPDATE api_tokens SET expires_at = now() WHERE id = $1", expired.info.id)
    assert await revoke_token(store, revoked.info.id)
    async with app_client(app) as http:
        for issued, says in ((expired, "expired at"), (revoked, "was revoked at")):
            response = await http.get("/v1/cities", headers={"Authorization": f"Bearer {issued.secret}"})
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"] == "unauthenticated"
            assert f"the token {issued.info.id} {says}" in response.json()["detail"]
        unknown = await http.get("/v1/cities", headers={"Authorization": "Bearer cct_nobody"})
        assert unknown.json()["detail"] == "the token is unknown"
        # No token is needed for what is not behind one, and no route is found by guessing.
        assert (await http.get("/openapi.json")).status_code == 200
        assert (await http.get("/nowhere")).status_code == 404


async def test_the_store_down_while_checking_a_token_is_a_503(store: EventStore, database_url: str) -> None:
    from readmodel import open_city_store

    dead = await open_city_store(f"postgresql://citycert@127.0.0.1:{free_port()}/citycert", min_size=0)
    try:
        app = create_app(api_settings(), client=await _no_temporal(), store=dead)
        async with app_client(app) as http:
            response = await http.post(
                "/v1/cities", headers={"Authorization": "Bearer cct_whoever"}, content=b"{}"
            )
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "database_unavailable"
    finally:
        await dead.close()
