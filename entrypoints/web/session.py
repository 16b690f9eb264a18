"""Who is asking, in which language, and whether their form came from one of our pages.

Three cookies, each HttpOnly and SameSite=Lax, Secure when the request came over HTTPS:
- `citycert_session`: the secret of a signed-in person's session (app/sign_in.py keeps its hash);
- `citycert_visitor`: a random value given before sign-in, to which the sign-in forms' CSRF token
  is bound (an HMAC of it under the sign-in key, so a planted cookie is no use without the key);
- `citycert_lang`: the language the visitor chose with the switch;
- `citycert_sign_in`: a random nonce given when the sign-in form is posted, which the mailed link
  is bound to (app/sign_in.py): opened in a browser without it, the link asks before signing in.

Signed in, a form's CSRF token is the session's own (kept with it). Every POST checks it.

A session as read is kept in this process for KEEP_SESSION_FOR (two seconds), by its secret's
hash: a person clicking through pages, or a page and the htmx requests it makes, find it without a
round trip to PostgreSQL (the one cost a signed-in page had over a static one). The trade-off: a
sign-out, a deactivation or an erasure made in THIS process drops every kept session at once
(app/sign_in.py counts them), but one made in another process (another API worker, the CLI
deactivating someone) reaches this one's pages up to KEEP_SESSION_FOR later. Nothing else is
changed by keeping it: the session's absolute end is checked on every request, its idle end
still moves on (the read that fills the slot touches it, at most once a minute, as before), and a
cookie that opens no session is looked up every time (nothing is kept for it).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import cast

from fastapi import Request, Response

from app.services import Services
from app.sign_in import Session, digest, form_token, session_of, sessions_changes
from entrypoints.web.i18n import DEFAULT, LANGUAGES, negotiate
from runtime.keys import sign_in_key

SESSION_COOKIE = "citycert_session"
VISITOR_COOKIE = "citycert_visitor"
LANGUAGE_COOKIE = "citycert_lang"
SIGN_IN_COOKIE = "citycert_sign_in"
VISITOR_MAX_AGE = 24 * 3600


class PageError(Exception):
    """An answer other than the page asked for, shown as a page: its status, title and words
    (already in the visitor's language)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(f"{status} {title}: {message}")
        self.status = status
        self.title = title
        self.message = message


class NotStarted(Exception):
    """The services are still connecting (the lifespan has not wired them)."""


def services_of(request: Request) -> Services:
    found = getattr(request.app.state, "services", None)
    if found is None:
        raise NotStarted()
    return cast(Services, found)


def key_of(request: Request) -> bytes:
    """The sign-in key (runtime/keys.py), read once per process."""
    key = getattr(request.app.state, "sign_in_key", None)
    if key is None:
        key = request.app.state.sign_in_key = sign_in_key(services_of(request).settings)
    return cast(bytes, key)


def queue_cookie(request: Request, name: str, value: str, max_age: int | None) -> None:
    """A cookie for the response this request renders (set_cookies puts them on it)."""
    request.state.cookies_to_set = [*queued_cookies(request), (name, value, max_age)]


def queued_cookies(request: Request) -> list[tuple[str, str, int | None]]:
    return cast(list[tuple[str, str, int | None]], getattr(request.state, "cookies_to_set", []))


def set_cookies(request: Request, response: Response) -> None:
    """The queued cookies on the response: HttpOnly, SameSite=Lax, Secure when asked over HTTPS."""
    for name, value, max_age in queued_cookies(request):
        response.set_cookie(
            name, value, max_age=max_age, httponly=True, samesite="lax", secure=request.url.scheme == "https"
        )


# How long a session read from PostgreSQL is kept in this process: the bound, for another
# process's sign-out or deactivation, on how late this one's pages see it.
KEEP_SESSION_FOR = 2.0  # seconds
KEEP_SESSIONS = 10_000  # at most; the least recently used go first


class KeptSessions:
    """Sessions as read, by their secret's hash: each with when it was read (time.monotonic) and
    the count of this process's session and people changes before it was read."""

    def __init__(self, *, keep_for: float = KEEP_SESSION_FOR, size: int = KEEP_SESSIONS) -> None:
        self.keep_for = keep_for
        self.size = size
        self._slots: OrderedDict[bytes, tuple[float, int, Session]] = OrderedDict()

    def get(self, key: bytes) -> Session | None:
        found = self._slots.get(key)
        if found is None:
            return None
        read_at, changes, session = found
        if (
            changes != sessions_changes()
            or time.monotonic() - read_at >= self.keep_for
            or session.expires_at <= datetime.now(UTC)
        ):
            del self._slots[key]
            return None
        return session

    def put(self, key: bytes, read_at: float, changes: int, session: Session) -> None:
        self._slots[key] = (read_at, changes, session)
        self._slots.move_to_end(key)
        while len(self._slots) > self.size:
            self._slots.popitem(last=False)

    def clear(self) -> None:
        """Forget every session kept (as KEEP_SESSION_FOR after the last read would)."""
        self._slots.clear()

    def __len__(self) -> int:
        return len(self._slots)


def kept_sessions(request: Request) -> KeptSessions:
    found: KeptSessions | None = getattr(request.app.state, "kept_sessions", None)
    if found is None:
        found = request.app.state.kept_sessions = KeptSessions()
    return found


async def _session(request: Request, svc: Services, secret: str) -> Session | None:
    """The session this secret opens: kept, or read (and kept when it is live)."""
    kept = kept_sessions(request)
    key = digest(secret)
    found = kept.get(key)
    if found is not None:
        return found
    # Counted before the read: a sign-out committed while it runs leaves this entry stale.
    read_at, changes = time.monotonic(), sessions_changes()
    found = await session_of(svc.store, secret, idle=svc.settings.session_idle)
    if found is not None:
        kept.put(key, read_at, changes, found)
    return found


async def load_session(request: Request) -> None:
    """Every page's first step: find the session its cookie opens, and give a visitor without one
    the random value its sign-in forms are bound to."""
    svc = services_of(request)
    request.state.session = None
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        request.state.session = await _session(request, svc, secret)
    visitor = request.cookies.get(VISITOR_COOKIE)
    if not visitor or len(visitor) > 100:
        visitor = secrets.token_urlsafe(24)
        queue_cookie(request, VISITOR_COOKIE, visitor, VISITOR_MAX_AGE)
    request.state.visitor = visitor


def sign_in_nonce(request: Request) -> str | None:
    """The nonce this browser was given when it asked for a sign-in link, if it has one."""
    nonce = request.cookies.get(SIGN_IN_COOKIE)
    return nonce if nonce and len(nonce) <= 100 else None


def session_in(request: Request) -> Session | None:
    return cast(Session | None, getattr(request.state, "session", None))


def csrf_token_of(request: Request) -> str:
    """The token this page's forms carry: the session's, or the visitor's before sign-in."""
    session = session_in(request)
    if session is not None:
        return session.csrf_token
    visitor = getattr(request.state, "visitor", None)
    return form_token(key_of(request), visitor) if visitor else ""


def csrf_ok(request: Request, token: str) -> bool:
    expected = csrf_token_of(request)
    return bool(token) and bool(expected) and hmac.compare_digest(token.encode(), expected.encode())


def language_of(request: Request) -> str:
    """The switch's choice, else the person's language, else the browser's, else English."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    if chosen is not None and chosen in LANGUAGES:
        return chosen
    session = session_in(request)
    if session is not None and session.person.language is not None:
        return session.person.language.value
    return negotiate(request.headers.get("accept-language")) or DEFAULT
