"""Sign-in for people (the portal): a single-use link by e-mail, then a session.

1. **Ask.** `request_link(email, client)` counts the request against the limits per address and per
   client (a table, migration 0014, so every API process counts the same), then, only when the
   address is an active person's, records a link and queues its mail in the outbox, in one
   transaction. Whether the address is known changes nothing the caller sees.
2. **Mail.** The relay (app/relay.py) writes the mail in the person's language. The link's secret
   is `link_secret(key, link id)`: an HMAC the relay computes with the sign-in key, which lives
   outside the database (runtime/keys.py), so the database holds only the secret's SHA-256 and a
   copy of it signs nobody in.
3. **Open.** `start_session(secret)` uses the link, once, before it expires, and starts a session:
   its secret goes into a cookie, its SHA-256 into `web_sessions`, with a CSRF token for its forms.
4. **Use.** `session_of(secret)` finds the session while it is neither ended, idle too long, past
   its absolute lifetime, nor its person deactivated, and moves its idle end on (once a minute).

A link is bound to the browser that asked for it: the form's post gives the browser a random nonce
(a cookie) and the link keeps the nonce's SHA-256 (migration 0016). Opened where that cookie is not,
the link starts a session only once the person confirmed the account it names (`opening`,
`start_session(confirmed=True)`): someone forwarding their own link cannot silently sign another
person in as themselves (login CSRF). `sweep` deletes the sessions past their absolute lifetime and
the links long expired; the mail relay runs it (app/relay.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.errors import AppError
from domain.notices import Audience, Notice, NoticeKind
from domain.people import Person
from eventstore import EventStore

_PERSON_COLUMNS = (
    "p.id, p.role, p.city_id, p.name, p.email, p.language, p.deactivated_at IS NULL AS active, "
    "p.created_at, p.deactivated_at, p.erased_at"
)


class TooManySignInRequests(AppError):
    """More sign-in requests for this address, or from this client, than the limits allow."""

    code = "too_many_requests"


class LinkRefused(AppError):
    """A sign-in link that cannot start a session; `reason` says which case: unknown, used, expired."""

    code = "sign_in_link_refused"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ConfirmFirst(AppError):
    """A good link opened in a browser other than the one that asked for it: it starts a session
    only once the person confirmed the account, named by `shown` (its address, masked)."""

    code = "sign_in_link_unconfirmed"

    def __init__(self, shown: str) -> None:
        super().__init__(f"this sign-in link was asked for in another browser: confirm signing in as {shown}")
        self.shown = shown


@dataclass(frozen=True, slots=True)
class Opening:
    """A link that can start a session, as its landing sees it: whether this browser asked for it,
    and the account it signs in to (the address masked)."""

    same_browser: bool
    shown: str


@dataclass(frozen=True, slots=True)
class Limits:
    window: timedelta
    per_address: int
    per_client: int


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in person's session as a request finds it."""

    person: Person
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class StartedSession:
    secret: str  # for the cookie, never stored
    session: Session


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def link_secret(key: bytes, link_id: uuid.UUID) -> str:
    """The secret of a link: derived, so the relay can write it into the mail without it being kept."""
    mac = hmac.new(key, b"citycert sign-in link " + link_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def link_path(secret: str) -> str:
    """Where a link lands in the portal (the secret in the query, which request logs leave out)."""
    return f"/sign-in/link?token={secret}"


def form_token(key: bytes, value: str) -> str:
    """The CSRF token of a form shown before sign-in, for the random value of the visitor's cookie:
    a site that can plant a cookie still cannot make the token that goes with it."""
    return hmac.new(key, b"citycert sign-in form " + value.encode(), hashlib.sha256).hexdigest()


def masked(email: str) -> str:
    """An address as a page may show it to whoever holds the link: `a***@example.org`."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local[:1]}***@{domain}" if local else f"***@{domain}"


def _browser_hash(browser: str | None) -> bytes | None:
    return digest(browser) if browser else None


def _email_hash(email: str) -> bytes:
    return hashlib.sha256(email.strip().lower().encode()).digest()


async def request_link(
    store: EventStore,
    email: str,
    *,
    client: str,
    key: bytes,
    portal_url: str,
    lifetime: timedelta,
    limits: Limits,
    browser: str | None = None,
) -> None:
    """Count the request; send an active person with that address a link, bound to `browser` (the
    nonce of the asking browser's cookie; none: bound to no browser, so it always asks). Answers the
    same, known address or not, unless a limit is reached (TooManySignInRequests, said for either)."""
    address = _email_hash(email)
    client = client[:100] or "unknown"
    async with store.connection() as conn, conn.transaction():
        await conn.execute("DELETE FROM sign_in_requests WHERE at < now() - $1::interval", limits.window)
        counts = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE email_hash = $1), count(*) FILTER (WHERE client = $2) "
            "FROM sign_in_requests WHERE email_hash = $1 OR client = $2",
            address,
            client,
        )
        assert counts is not None  # an aggregate always answers one row
        by_address, by_client = counts
        minutes = int(limits.window.total_seconds() // 60)
        if by_address >= limits.per_address or by_client >= limits.per_client:
            raise TooManySignInRequests(f"too many sign-in requests: wait {minutes} minutes and ask again")
        await conn.execute(
            "INSERT INTO sign_in_requests (email_hash, client) VALUES ($1, $2)", address, client
        )
        person = await conn.fetchrow(
            "SELECT id, city_id FROM people WHERE lower(email) = lower($1) AND deactivated_at IS NULL",
            email.strip(),
        )
        if person is None:
            return
        link_id = uuid.uuid4()
        expires_at = await conn.fetchval(
            "INSERT INTO sign_in_links (id, secret_hash, person_id, expires_at, browser_hash) "
            "VALUES ($1, $2, $3, now() + $4::interval, $5) RETURNING expires_at",
            link_id,
            digest(link_secret(key, link_id)),
            person["id"],
            lifetime,
            _browser_hash(browser),
        )
        notice = Notice(
            kind=NoticeKind.SIGN_IN_LINK,
            audience=Audience.PERSON,
            person_id=person["id"],
            due_at=expires_at,
            portal_url=portal_url.rstrip("/"),
        )
        await conn.execute(
            "INSERT INTO notification_outbox (event_id, city_id, kind, payload, created_at) "
            "VALUES ($1, $2, $3, $4::jsonb, now())",
            link_id,
            person["city_id"] or "",
            notice.kind.value,
            notice.model_dump_json(),
        )


async def opening(store: EventStore, link: str, *, browser: str | None) -> Opening:
    """What the link would do if used now, without using it: LinkRefused if it cannot start a
    session, else whether `browser` (the cookie's nonce) is the one that asked for it."""
    async with store.connection() as conn:
        row = await conn.fetchrow(
            "SELECT p.email, l.browser_hash IS NOT NULL AND l.browser_hash = $2 AS same_browser "
            "FROM sign_in_links l JOIN people p ON p.id = l.person_id "
            "WHERE l.secret_hash = $1 AND l.used_at IS NULL AND l.expires_at > now() "
            "AND p.deactivated_at IS NULL",
            digest(link),
            _browser_hash(browser),
        )
        if row is None:
            raise await _why_refused(conn, link)
    return Opening(same_browser=bool(row["same_browser"]), shown=masked(row["email"]))


async def start_session(
    store: EventStore,
    link: str,
    *,
    idle: timedelta,
    lifetime: timedelta,
    browser: str | None = None,
    confirmed: bool = False,
) -> StartedSession:
    """Use the link (once, before it expires, by an active person) and start their session: in the
    browser that asked for it, or elsewhere once `confirmed` (ConfirmFirst until then)."""
    session_secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    async with store.connection() as conn, conn.transaction():
        used = await conn.fetchrow(
            "UPDATE sign_in_links l SET used_at = now() FROM people p "
            "WHERE l.secret_hash = $1 AND l.used_at IS NULL AND l.expires_at > now() "
            "AND p.id = l.person_id AND p.deactivated_at IS NULL "
            "AND ($2 OR l.browser_hash = $3) RETURNING l.id, l.person_id",
            digest(link),
            confirmed,
            _browser_hash(browser),
        )
        if used is None:
            raise await _why_refused(conn, link)
        row = await conn.fetchrow(
            "INSERT INTO web_sessions (secret_hash, person_id, link_id, csrf_token, idle_until, expires_at) "
            "VALUES ($1, $2, $3, $4, now() + least($5::interval, $6::interval), now() + $6::interval) "
            "RETURNING expires_at",
            digest(session_secret),
            used["person_id"],
            used["id"],
            csrf,
            idle,
            lifetime,
        )
        person = await conn.fetchrow(
            f"SELECT {_PERSON_COLUMNS} FROM people p WHERE p.id = $1", used["person_id"]
        )
    assert row is not None and person is not None  # inserted, and held by the link's foreign key
    return StartedSession(
        secret=session_secret,
        session=Session(Person.model_validate(dict(person)), csrf, row["expires_at"]),
    )


async def _why_refused(conn: object, link: str) -> LinkRefused | ConfirmFirst:
    row = await conn.fetchrow(  # type: ignore[attr-defined]
        "SELECT l.used_at IS NOT NULL AS used, l.expires_at <= now() AS expired, "
        "p.deactivated_at IS NOT NULL AS inactive, p.email "
        "FROM sign_in_links l JOIN people p ON p.id = l.person_id WHERE l.secret_hash = $1",
        digest(link),
    )
    if row is None:
        return LinkRefused("unknown", "this sign-in link is not one citycert sent")
    if row["used"]:
        return LinkRefused("used", "this sign-in link was used already; each link works once")
    if row["expired"]:
        return LinkRefused("expired", "this sign-in link has expired")
    if not row["inactive"]:
        return ConfirmFirst(masked(row["email"]))  # good, but asked for in another browser
    return LinkRefused("unknown", "this sign-in link is not one citycert sent")


# A session's idle end moves on at most once a minute: a page view is then a read, not a write.
TOUCH_EVERY = timedelta(minutes=1)
_LIVE_SESSION = f"""
WITH live AS (
    SELECT s.secret_hash, s.csrf_token, s.expires_at, s.last_seen_at, {_PERSON_COLUMNS}
      FROM web_sessions s JOIN people p ON p.id = s.person_id
     WHERE s.secret_hash = $1 AND s.ended_at IS NULL AND s.idle_until > now() AND s.expires_at > now()
       AND p.deactivated_at IS NULL
), touched AS (
    UPDATE web_sessions w SET last_seen_at = now(), idle_until = least(now() + $2::interval, w.expires_at)
      FROM live WHERE w.secret_hash = live.secret_hash AND live.last_seen_at <= now() - $3::interval
)
SELECT * FROM live
"""


async def session_of(store: EventStore, secret: str, *, idle: timedelta) -> Session | None:
    """The live session this secret opens, its idle end moved on; None when there is none."""
    async with store.connection() as conn:
        row = await conn.fetchrow(_LIVE_SESSION, digest(secret), idle, TOUCH_EVERY)
    if row is None:
        return None
    fields = dict(row)
    csrf, expires_at = fields.pop("csrf_token"), fields.pop("expires_at")
    del fields["secret_hash"], fields["last_seen_at"]
    return Session(Person.model_validate(fields), csrf, expires_at)


async def end_session(store: EventStore, secret: str) -> None:
    """Sign out: the session ends now (ending one already ended changes nothing)."""
    async with store.connection() as conn:
        await conn.execute(
            "UPDATE web_sessions SET ended_at = coalesce(ended_at, now()) WHERE secret_hash = $1",
            digest(secret),
        )
    sessions_changed()


# How many times this process ended a session or changed a person. Whoever keeps sessions as read
# (the portal keeps each for a second or two, entrypoints/web/session.py) notes this count before
# it reads one and drops what it kept once the count has moved, so a sign-out, a deactivation or
# an erasure in this process shows on the very next request (another process sees it once what it
# kept has aged out: entrypoints/web/session.py KEEP_SESSION_FOR).
_changes = 0


def sessions_changed() -> None:
    """A session ended or a person changed in this process: what anyone kept of sessions is stale."""
    global _changes
    _changes += 1


def sessions_changes() -> int:
    return _changes


# How long an expired link is kept: opened within a day, it is still answered "expired" (what the
# person needs to hear), not "not one we sent".
KEEP_EXPIRED_LINKS = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Swept:
    sessions: int
    links: int


async def sweep(store: EventStore, *, now: datetime, keep_links: timedelta = KEEP_EXPIRED_LINKS) -> Swept:
    """Delete the sessions past their absolute lifetime (signed out or not: none can open a page
    again), then the links expired more than `keep_links` before `now` that no remaining session
    names (a live session keeps the link it started from, its foreign key)."""
    async with store.connection() as conn, conn.transaction():
        sessions = await conn.fetchval(
            "WITH gone AS (DELETE FROM web_sessions WHERE expires_at <= $1 RETURNING 1) "
            "SELECT count(*) FROM gone",
            now,
        )
        links = await conn.fetchval(
            "WITH gone AS (DELETE FROM sign_in_links l WHERE l.expires_at <= $1 "
            "AND NOT EXISTS (SELECT 1 FROM web_sessions s WHERE s.link_id = l.id) RETURNING 1) "
            "SELECT count(*) FROM gone",
            now - keep_links,
        )
    return Swept(sessions=int(sessions), links=int(links))
