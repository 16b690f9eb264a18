"""Tokens: a secret shown once, stored as its SHA-256, speaking for one identity of its role (bound
to one city for city and reviewer identities), expiring, revocable and rotatable."""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import datetime, timedelta

import pytest

from app.tokens import (
    TokenError,
    TokenInfo,
    TokenRefused,
    UnknownToken,
    authenticate,
    create_token,
    get_token,
    issue_token,
    list_tokens,
    register_identity,
    revoke_token,
    rotate_token,
    verify_token,
)
from eventstore import EventStore
from runtime.settings import Settings


async def test_a_token_is_stored_hashed_and_grants_its_role_identity_and_city(store: EventStore) -> None:
    secret = await create_token(store, "reviewer", city="riverton", name="rev-ana")
    assert secret.startswith("cct_") and len(secret) > 40
    async with store.connection() as conn:
        stored = await conn.fetchrow("SELECT * FROM api_tokens")
    assert stored is not None
    assert bytes(stored["token_hash"]) == hashlib.sha256(secret.encode()).digest()
    assert secret not in str(dict(stored)), "the secret itself is never stored"

    info = await verify_token(store, secret)
    assert info is not None
    assert (info.role, info.city_id, info.subject, info.actor_id) == (
        "reviewer",
        "riverton",
        "rev-ana",
        "rev-ana",
    )
    assert await verify_token(store, secret + "x") is None
    assert await verify_token(store, "not-a-token") is None


async def test_a_second_home_city_for_a_reviewer_is_refused(store: EventStore) -> None:
    # Given reviewer rev-carla, from riverton,
    first = await issue_token(store, "reviewer", city="riverton", name="rev-carla")
    # when someone asks for a rev-carla token from lakeside (to review riverton as "not from there"),
    with pytest.raises(TokenError, match="exists with the home city 'riverton'"):
        await create_token(store, "reviewer", city="lakeside", name="rev-carla")
    # then nothing is made; a second token for rev-carla speaks for the same identity and home city.
    second = await issue_token(store, "reviewer", name="rev-carla")
    same_city = await issue_token(store, "reviewer", city="riverton", name="rev-carla")
    assert {(t.info.subject, t.info.city_id) for t in (first, second, same_city)} == {
        ("rev-carla", "riverton")
    }
    assert len(await list_tokens(store)) == 3
    # The same name in another role is another identity (a committee member may be called so too).
    chair = await issue_token(store, "committee", name="rev-carla")
    assert (chair.info.role, chair.info.city_id) == ("committee", None)


async def test_a_token_without_a_name_is_an_identity_of_its_own(store: EventStore) -> None:
    one = await issue_token(store, "operator")
    other = await issue_token(store, "operator")
    assert one.info.subject == one.info.id and other.info.subject == other.info.id
    with pytest.raises(TokenError, match="may not start with 'tok_'"):
        await create_token(store, "operator", name=one.info.id)


async def test_a_revoked_token_is_refused_saying_so(store: EventStore) -> None:
    secret = await create_token(store, "operator")
    info = await authenticate(store, secret)
    assert await revoke_token(store, info.id)
    assert not await revoke_token(store, info.id), "revoking twice changes nothing"
    with pytest.raises(TokenRefused, match=f"the token {info.id} was revoked at") as refused:
        await authenticate(store, secret)
    assert refused.value.reason == "revoked"
    [listed] = await list_tokens(store)
    assert listed.id == info.id and listed.status(listed.revoked_at) == "revoked"  # type: ignore[arg-type]


async def test_a_token_expires_after_its_lifetime_shorter_for_operators(store: EventStore) -> None:
    settings = Settings(token_lifetime=timedelta(days=30), operator_token_lifetime=timedelta(days=2))
    reviewer = await issue_token(
        store, "reviewer", "riverton", "rev-ana", lifetimes=settings.token_lifetime_of
    )
    operator = await issue_token(store, "operator", name="op-1", lifetimes=settings.token_lifetime_of)
    assert reviewer.info.expires_at - reviewer.info.created_at == timedelta(days=30)
    assert operator.info.expires_at - operator.info.created_at == timedelta(days=2)
    default = await issue_token(store, "operator", name="op-2")
    assert default.info.expires_at - default.info.created_at == timedelta(days=7)
    # When its expiry has passed (set in the database, whose clock judges it),
    async with store.connection() as conn:
        await conn.execute(
            "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", operator.info.id
        )
    # then it authenticates nobody, and the refusal says it expired.
    with pytest.raises(TokenRefused, match=f"the token {operator.info.id} expired at") as refused:
        await authenticate(store, operator.secret)
    assert refused.value.reason == "expired"
    assert await verify_token(store, reviewer.secret) is not None


async def test_the_last_use_is_recorded_at_most_once_a_minute(store: EventStore) -> None:
    issued = await issue_token(store, "committee", name="chair")
    assert issued.info.last_used_at is None

    async def last_used() -> datetime | None:
        async with store.connection() as conn:
            return await conn.fetchval("SELECT last_used_at FROM api_tokens WHERE id = $1", issued.info.id)

    await authenticate(store, issued.secret)
    first = await last_used()
    assert first is not None
    # A second request within the minute writes nothing.
    await authenticate(store, issued.secret)
    assert await last_used() == first
    # Once the recorded use is a minute old, the next request records a new one.
    async with store.connection() as conn:
        await conn.execute(
            "UPDATE api_tokens SET last_used_at = last_used_at - interval '61 seconds' WHERE id = $1",
            issued.info.id,
        )
    backdated = await last_used()
    await authenticate(store, issued.secret)
    assert backdated is not None and await last_used() > backdated  # type: ignore[operator]


async def test_rotation_gives_the_same_identity_a_new_secret_and_retires_the_old(store: EventStore) -> None:
    old = await issue_token(store, "reviewer", city="riverton", name="rev-ana")
    new = await rotate_token(store, old.info.id, lifetimes=lambda role: timedelta(days=10))
    assert new.secret != old.secret and new.info.id != old.info.id
    assert (new.info.role, new.info.subject, new.info.city_id) == ("reviewer", "rev-ana", "riverton")
    assert new.info.expires_at - new.info.created_at == timedelta(days=10)
    assert (await authenticate(store, new.secret)).id == new.info.id
    with pytest.raises(TokenRefused, match=f"replaced by {new.info.id}"):
        await authenticate(store, old.secret)
    retired = await get_token(store, old.info.id)
    assert retired is not None and retired.replaced_by == new.info.id
    with pytest.raises(TokenError, match="a revoked token is not rotated"):
        await rotate_token(store, old.info.id)
    for unknown in ("tok_000000000000", "x\x00y"):
        with pytest.raises(UnknownToken):
            await rotate_token(store, unknown)
        assert await get_token(store, unknown) is None


async def test_what_a_token_shows_holds_no_secret_nor_hash() -> None:
    assert {f.name for f in fields(TokenInfo)} == {
        "id",
        "role",
        "subject",
        "city_id",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "replaced_by",
    }


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
        ("operator", None, "cli:root", "1-200 characters"),
    ],
)
async def test_a_token_that_cannot_be_granted_is_refused(
    store: EventStore, role: str, city: str | None, name: str | None, message: str
) -> None:
    with pytest.raises(TokenError, match=message):
        await create_token(store, role, city=city, name=name)
    assert await list_tokens(store) == []


async def test_an_identity_made_without_a_token_binds_the_tokens_made_for_it_later(store: EventStore) -> None:
    # Given the demo's reviewer, who reviewed without a token, as an identity from riverton,
    await register_identity(store, "reviewer", "rev-ana", "riverton")
    await register_identity(store, "reviewer", "rev-ana", "riverton")  # again: nothing changes
    # when tokens are made for rev-ana, they speak for her, from riverton, and for nobody elsewhere.
    assert (await issue_token(store, "reviewer", name="rev-ana")).info.city_id == "riverton"
    with pytest.raises(TokenError, match="exists with the home city 'riverton'"):
        await create_token(store, "reviewer", city="lakeside", name="rev-ana")
    with pytest.raises(TokenError, match="exists with the home city 'riverton'"):
        await register_identity(store, "reviewer", "rev-ana", "lakeside")
