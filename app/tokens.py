"""Bearer tokens: created once, stored hashed, each speaking for one identity, expiring, revocable.

A token is `cct_` and 43 random URL-safe characters (256 bits). The store keeps only its SHA-256,
so the secret is shown once, when the token is created or rotated, and a copy of the table
authenticates nobody. Looking a token up by its hash needs no constant-time comparison: an
attacker who can time the index lookup learns about hashes of guesses, not about the secret.

Identities (migration 0009): every token speaks for an identity, a `subject` unique per role, and
the events it causes name that subject as their actor. A city identity is bound to its city and a
reviewer identity to one home city, which it may never review; the binding lives on the identity,
not on the token. A second token for an existing identity (a second device, a replacement) is
bound to the same identity and city: asking for another city is refused, so no one can hold a
reviewer's name with a second home city. A token made without a name is an identity of its own
(its subject is the token's id). Roles: `city`, `reviewer`, `committee`, `operator`.

Lifetimes: a token expires `token_lifetime` after it is made (90 days), an operator's after
`operator_token_lifetime` (7 days). Rotation makes a new token for the same identity, with a
fresh lifetime, and revokes the old one at once. `last_used_at` is refreshed at most once a minute
per token, so authenticating a request is a read, not a write.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from domain.errors import Label, Refusal, Value
from domain.ids import is_city_id
from eventstore import EventStore
from runtime.settings import OPERATOR_TOKEN_LIFETIME, TOKEN_LIFETIME

ROLES: tuple[str, ...] = ("city", "reviewer", "committee", "operator")
BOUND_ROLES = frozenset({"city", "reviewer"})  # roles whose identity carries a city
PREFIX = "cct_"
ID_PREFIX = "tok_"
TOKEN_ID = re.compile(r"tok_[0-9a-f]{12}")
# A subject is the actor id of events: no spaces, no ':' (the CLI's own operators are `cli:...`).
SUBJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,199}")
TOUCH_EVERY = timedelta(minutes=1)
_MAX_TOKEN_LENGTH = 256

Status = Literal["active", "expired", "revoked"]


class TokenError(ValueError):
    """A token request that cannot be granted (unknown role, missing or other city, bad name...).

    Its words are a `Refusal` (domain/errors.py), so the operators' page says them in its language;
    `str(e)`, what the CLI and the API say, is their English, which names the CLI's options."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        super().__init__(refusal.english())


class UnknownToken(TokenError):
    """No token has this id."""

    def __init__(self, token_id: str) -> None:
        super().__init__(Refusal("no token {token_id!r}", token_id=token_id))
        self.token_id = token_id


class TokenRefused(Exception):
    """A secret that authenticates nobody: `reason` says which way (unknown, expired, revoked)."""

    def __init__(self, reason: Literal["unknown", "expired", "revoked"], message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def default_lifetime(role: str) -> timedelta:
    """The settings' default lifetimes (runtime.settings), for callers without settings."""
    return OPERATOR_TOKEN_LIFETIME if role == "operator" else TOKEN_LIFETIME


Lifetimes = Callable[[str], timedelta]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a token grants and when it was made, used, expires; never the secret or its hash."""

    id: str
    role: str
    subject: str
    city_id: str | None
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    replaced_by: str | None = None

    @property
    def actor_id(self) -> str:
        """Who the events name as the actor: the identity's subject."""
        return self.subject

    def status(self, now: datetime) -> Status:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just made: its secret (shown this once) and what it grants."""

    secret: str
    info: TokenInfo


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
        raise TokenError(Refusal("unknown role {role!r}; roles: {roles}", role=role, roles=ROLES))
    if role not in BOUND_ROLES and city:
        raise TokenError(
            Refusal("a {role} token is not bound to a city; leave out --city", role=Label("Role", role))
        )
    if city is not None and not is_city_id(city):
        raise TokenError(Refusal("{city!r} is not a city id (lower-case letters, digits and '-')", city=city))
    if name is not None:
        if not SUBJECT.fullmatch(name):
            raise TokenError(
                Refusal(
                    "a token name must be 1-200 characters: letters, digits, '.', '_', '@' and '-', "
                    "starting with a letter or digit"
                )
            )
        if name.startswith(ID_PREFIX):
            raise TokenError(
                Refusal("a token name may not start with {prefix!r} (token ids do)", prefix=ID_PREFIX)
            )


_COLUMNS = (
    "t.id, t.role, t.subject, i.city_id, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, "
    "t.replaced_by"
)
_FROM = "api_tokens t JOIN token_identities i ON i.role = t.role AND i.subject = t.subject"


def _info(row: Any) -> TokenInfo:
    return TokenInfo(**{name: row[name] for name in TokenInfo.__slots__})


async def _bound_city(conn: Any, role: str, subject: str, city: str | None) -> str | None:
    """The identity's city, the identity made now if new; refuses another city than its own."""
    if role in BOUND_ROLES and city is None:
        found = await conn.fetchval(
            "SELECT city_id FROM token_identities WHERE role = $1 AND subject = $2", role, subject
        )
        if found is None:
            raise TokenError(
                Refusal("a new {role} identity needs --city: the city", role=Label("Role", role))
                if role == "city"
                else Refusal(
                    "a new {role} identity needs --city: the reviewer's home city", role=Label("Role", role)
                )
            )
        return str(found)
    await conn.execute(
        "INSERT INTO token_identities (role, subject, city_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        role,
        subject,
        city,
    )
    # No lock needed: an identity, once made, is never changed or deleted.
    bound = await conn.fetchval(
        "SELECT city_id FROM token_identities WHERE role = $1 AND subject = $2", role, subject
    )
    if bound != city:
        values: dict[str, Value] = {"role": Label("Role", role), "subject": subject, "bound": bound}
        raise TokenError(
            Refusal(
                "the {role} {subject!r} exists with the home city {bound!r}: a second token speaks for "
                "the same identity and home city (leave out --city, or give another name for another {role})",
                **values,
            )
            if role == "reviewer"
            else Refusal(
                "the {role} {subject!r} exists with the city {bound!r}: a second token speaks for the "
                "same identity and city (leave out --city, or give another name for another {role})",
                **values,
            )
        )
    return city


def _new_id() -> str:
    return ID_PREFIX + secrets.token_hex(6)


async def _insert(
    conn: Any, role: str, subject: str, lifetime: timedelta, token_id: str | None = None
) -> IssuedToken:
    secret = PREFIX + secrets.token_urlsafe(32)
    token_id = token_id or _new_id()
    await conn.execute(
        "INSERT INTO api_tokens (id, token_hash, role, subject, expires_at) "
        "VALUES ($1, $2, $3, $4, now() + $5::interval)",
        token_id,
        hash_token(secret),
        role,
        subject,
        lifetime,
    )
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM {_FROM} WHERE t.id = $1", token_id)
    return IssuedToken(secret, _info(row))


async def issue_token(
    store_or_conn: StoreOrConnection,
    role: str,
    city: str | None = None,
    name: str | None = None,
    *,
    lifetimes: Lifetimes = default_lifetime,
) -> IssuedToken:
    """Create a token for the identity `name` of `role` (made now if new, else the same one); without
    a name, for an identity of its own named by the token's id."""
    _check(role, city, name)
    if name is None and role in BOUND_ROLES and city is None:
        raise TokenError(
            Refusal("a {role} token needs --city: the city", role=Label("Role", role))
            if role == "city"
            else Refusal("a {role} token needs --city: the reviewer's home city", role=Label("Role", role))
        )
    token_id = _new_id()
    subject = name or token_id
    async with _connection(store_or_conn) as conn, conn.transaction():
        await _bound_city(conn, role, subject, city)
        return await _insert(conn, role, subject, lifetimes(role), token_id)


async def register_identity(
    store_or_conn: StoreOrConnection, role: str, subject: str, city: str | None = None
) -> None:
    """Make sure the identity exists, bound to `city`, without making a token: for actors that act
    without one (the demo seed) and whose name a later token must then speak for, city and all.
    TokenError when it exists with another city."""
    _check(role, city, subject)
    if role in BOUND_ROLES and city is None:
        raise TokenError(Refusal("a {role} identity needs a city", role=Label("Role", role)))
    async with _connection(store_or_conn) as conn, conn.transaction():
        await _bound_city(conn, role, subject, city)


async def create_token(
    store_or_conn: StoreOrConnection,
    role: str,
    city: str | None = None,
    name: str | None = None,
    *,
    lifetimes: Lifetimes = default_lifetime,
) -> str:
    """Create a token and return its secret: the only time anyone sees it."""
    return (await issue_token(store_or_conn, role, city, name, lifetimes=lifetimes)).secret


async def issue_person_token(
    store: EventStore, person_id: str, *, lifetimes: Lifetimes = default_lifetime
) -> IssuedToken:
    """A token for a person of the registry: their role and city, and their id as the identity, so
    the events they cause name the person by id (never by name or address, which the log would
    keep for good) and the mail relay finds them. Refused for a person deactivated or erased."""
    from app.people import get_person  # the people registry sits beside the tokens, not below

    person = await get_person(store, person_id)
    if not person.active:
        raise TokenError(
            Refusal("{person_id} is deactivated and erased: no token", person_id=person_id)
            if person.erased_at
            else Refusal("{person_id} is deactivated: no token", person_id=person_id)
        )
    return await issue_token(store, person.role.value, person.city_id, person.id, lifetimes=lifetimes)


async def authenticate(store_or_conn: StoreOrConnection, secret: str) -> TokenInfo:
    """What `secret` grants; TokenRefused says whether it is unknown, expired or revoked.

    The token's last use is recorded when the one recorded is a minute old or more (a write then,
    a read otherwise)."""
    if not secret.startswith(PREFIX) or len(secret) > _MAX_TOKEN_LENGTH:
        raise TokenRefused("unknown", "the token is unknown")
    async with _connection(store_or_conn) as conn:
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS}, now() AS now FROM {_FROM} WHERE t.token_hash = $1", hash_token(secret)
        )
        if row is None:
            raise TokenRefused("unknown", "the token is unknown")
        info = _info(row)
        if info.revoked_at is not None:
            how = f"replaced by {info.replaced_by} (rotated)" if info.replaced_by else "revoked"
            raise TokenRefused("revoked", f"the token {info.id} was {how} at {info.revoked_at.isoformat()}")
        if info.expires_at <= row["now"]:
            raise TokenRefused("expired", f"the token {info.id} expired at {info.expires_at.isoformat()}")
        if info.last_used_at is None or info.last_used_at <= row["now"] - TOUCH_EVERY:
            await conn.execute(
                "UPDATE api_tokens SET last_used_at = now() WHERE id = $1 "
                "AND (last_used_at IS NULL OR last_used_at <= now() - $2::interval)",
                info.id,
                TOUCH_EVERY,
            )
    return info


async def verify_token(store_or_conn: StoreOrConnection, secret: str) -> TokenInfo | None:
    """What `secret` grants, or None for an unknown, malformed, expired or revoked token."""
    try:
        return await authenticate(store_or_conn, secret)
    except TokenRefused:
        return None


async def get_token(store_or_conn: StoreOrConnection, token_id: str) -> TokenInfo | None:
    """The token with this public id (live or not), or None."""
    if not TOKEN_ID.fullmatch(token_id):
        return None
    async with _connection(store_or_conn) as conn:
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM {_FROM} WHERE t.id = $1", token_id)
    return _info(row) if row is not None else None


async def revoke_token(store_or_conn: StoreOrConnection, token_id: str) -> bool:
    """Revoke by public id; False when no such live token exists (revoking again changes nothing)."""
    if not TOKEN_ID.fullmatch(token_id):
        return False
    async with _connection(store_or_conn) as conn:
        status = await conn.execute(
            "UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", token_id
        )
    return bool(status.endswith(" 1"))


async def rotate_token(
    store_or_conn: StoreOrConnection, token_id: str, *, lifetimes: Lifetimes = default_lifetime
) -> IssuedToken:
    """A new token for the same identity, with a fresh lifetime; the old one is revoked at once.

    An expired token may be rotated (that is how it is renewed), a revoked one not: UnknownToken
    for no such token, TokenError for a revoked one."""
    if not TOKEN_ID.fullmatch(token_id):
        raise UnknownToken(token_id)
    async with _connection(store_or_conn) as conn, conn.transaction():
        old = await conn.fetchrow(
            "SELECT role, subject, revoked_at, replaced_by FROM api_tokens WHERE id = $1 FOR UPDATE",
            token_id,
        )
        if old is None:
            raise UnknownToken(token_id)
        if old["revoked_at"] is not None:
            raise TokenError(
                Refusal(
                    "the token {token_id} was revoked at {revoked_at}; a revoked token is not rotated "
                    "(create a new one)",
                    token_id=token_id,
                    revoked_at=old["revoked_at"],
                )
            )
        issued = await _insert(conn, old["role"], old["subject"], lifetimes(old["role"]))
        await conn.execute(
            "UPDATE api_tokens SET revoked_at = now(), replaced_by = $2 WHERE id = $1",
            token_id,
            issued.info.id,
        )
    return issued


async def list_tokens(store_or_conn: StoreOrConnection) -> list[TokenInfo]:
    """Every token, oldest first, revoked and expired ones included (see TokenInfo.status)."""
    async with _connection(store_or_conn) as conn:
        rows = await conn.fetch(f"SELECT {_COLUMNS} FROM {_FROM} ORDER BY t.created_at, t.id")
    return [_info(r) for r in rows]


async def database_now(store_or_conn: StoreOrConnection) -> datetime:
    """The database's clock, the one expiry is judged by."""
    async with _connection(store_or_conn) as conn:
        now: datetime = await conn.fetchval("SELECT now()")
    return now
