"""Bearer tokens of the HTTP API: created once, stored hashed, verified on every request.

A token is `cct_` and 43 random URL-safe characters (256 bits). The store keeps only its SHA-256,
so the secret is shown once, by `create_token`, and a copy of the table authenticates nobody.
Looking a token up by its hash needs no constant-time comparison: an attacker who can time the
index lookup learns about hashes of guesses, not about the secret.

Roles: `city` (bound to one city), `reviewer` (bound to a home city it may never review; the
reviewer id is the token's name, else its id), `committee`, `operator`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from domain.ids import is_city_id
from eventstore import EventStore

ROLES: tuple[str, ...] = ("city", "reviewer", "committee", "operator")
BOUND_ROLES = frozenset({"city", "reviewer"})  # roles that carry a city
PREFIX = "cct_"
_MAX_TOKEN_LENGTH = 256


class TokenError(ValueError):
    """A token request that cannot be granted (unknown role, missing or stray city, bad name)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a verified token grants; never the secret."""

    id: str
    role: str
    city_id: str | None
    name: str | None
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def actor_id(self) -> str:
        """Who the events name as the actor: the token's name, else its id."""
        return self.name or self.id


# The store (its errors become StoreUnavailable), a pool, or a connection (pooled or not).
StoreOrConnection = EventStore | asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy


@asynccontextmanager
async def _connection(target: Any) -> AsyncIterator[Any]:
    if isinstance(target, EventStore):
        async with target.connection() as conn:  # driver errors become StoreUnavailable
            yield conn
    elif isinstance(target, asyncpg.Pool):
        async with target.acquire() as conn:
            yield conn
    else:
        yield target


def hash_token(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def _check(role: str, city: str | None, name: str | None) -> None:
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role in BOUND_ROLES:
        what = "the city" if role == "city" else "the reviewer's home city"
        if not city:
            raise TokenError(f"a {role} token needs --city: {what}")
        if not is_city_id(city):
            raise TokenError(f"{city!r} is not a city id (lower-case letters, digits and '-')")
    elif city:
        raise TokenError(f"a {role} token is not bound to a city; leave out --city")
    if name is not None and (not name.strip() or len(name) > 200 or "\x00" in name):
        raise TokenError("a token name must be 1-200 characters")


async def create_token(
    store_or_conn: StoreOrConnection, role: str, city: str | None = None, name: str | None = None
) -> str:
    """Create a token and return its secret: the only time anyone sees it."""
    _check(role, city, name)
    secret = PREFIX + secrets.token_urlsafe(32)
    token_id = "tok_" + secrets.token_hex(6)
    async with _connection(store_or_conn) as conn:
        await conn.execute(
            "INSERT INTO api_tokens (id, token_hash, role, city_id, name) VALUES ($1, $2, $3, $4, $5)",
            token_id,
            hash_token(secret),
            role,
            city,
            name.strip() if name else None,
        )
    return secret


_COLUMNS = "id, role, city_id, name, created_at, revoked_at"


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row["id"],
        role=row["role"],
        city_id=row["city_id"],
        name=row["name"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


async def verify_token(store_or_conn: StoreOrConnection, secret: str) -> TokenInfo | None:
    """What `secret` grants, or None for an unknown, malformed or revoked token."""
    if not secret.startswith(PREFIX) or len(secret) > _MAX_TOKEN_LENGTH:
        return None
    async with _connection(store_or_conn) as conn:
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            hash_token(secret),
        )
    return _info(row) if row is not None else None


async def revoke_token(store_or_conn: StoreOrConnection, token_id: str) -> bool:
    """Revoke by public id; False when no such live token exists."""
    async with _connection(store_or_conn) as conn:
        status = await conn.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
        )
    return bool(status.endswith(" 1"))


async def list_tokens(store_or_conn: StoreOrConnection) -> list[TokenInfo]:
    """Every token, oldest first, revoked ones included (their revoked_at is set)."""
    async with _connection(store_or_conn) as conn:
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM api_tokens ORDER BY created_at, id")
    return [_info(r) for r in rows]
