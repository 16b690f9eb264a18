"""Tokens: a secret shown once, stored as its SHA-256, bound to a role (and a city), revocable."""

from __future__ import annotations

import hashlib

import pytest

from app.tokens import TokenError, create_token, list_tokens, revoke_token, verify_token
from eventstore import EventStore


async def test_a_token_is_stored_hashed_and_grants_its_role_and_city(store: EventStore) -> None:
    secret = await create_token(store, "reviewer", city="riverton", name="rev-ana")
    assert secret.startswith("cct_") and len(secret) > 40
    async with store.connection() as conn:
        stored = await conn.fetchrow("SELECT * FROM api_tokens")
    assert stored is not None
    assert bytes(stored["token_hash"]) == hashlib.sha256(secret.encode()).digest()
    assert secret not in str(dict(stored)), "the secret itself is never stored"

    info = await verify_token(store, secret)
    assert info is not None
    assert (info.role, info.city_id, info.name, info.actor_id) == (
        "reviewer",
        "riverton",
        "rev-ana",
        "rev-ana",
    )
    assert await verify_token(store, secret + "x") is None
    assert await verify_token(store, "not-a-token") is None


async def test_a_revoked_token_grants_nothing(store: EventStore) -> None:
    secret = await create_token(store, "operator")
    info = await verify_token(store, secret)
    assert info is not None and info.actor_id == info.id, "without a name the token's id is the actor"
    assert await revoke_token(store, info.id)
    assert not await revoke_token(store, info.id), "revoking twice changes nothing"
    assert await verify_token(store, secret) is None
    [listed] = await list_tokens(store)
    assert listed.id == info.id and listed.revoked_at is not None


async def test_the_pool_and_a_connection_serve_as_well(store: EventStore) -> None:
    secret = await create_token(store.pool, "committee", name="chair")
    async with store.pool.acquire() as conn:
        info = await verify_token(conn, secret)
    assert info is not None and info.role == "committee"


@pytest.mark.parametrize(
    ("role", "city", "name", "message"),
    [
        ("mayor", None, None, "unknown role 'mayor'"),
        ("city", None, None, "needs --city"),
        ("reviewer", None, "rev", "needs --city"),
        ("city", "Not A City", None, "is not a city id"),
        ("operator", "lakeside", None, "not bound to a city"),
        ("committee", None, "  ", "1-200 characters"),
    ],
)
async def test_a_token_that_cannot_be_granted_is_refused(
    store: EventStore, role: str, city: str | None, name: str | None, message: str
) -> None:
    with pytest.raises(TokenError, match=message):
        await create_token(store, role, city=city, name=name)
    assert await list_tokens(store) == []
