"""Who is asking, in which language, and whether their form came from one of our pages.

Three cookies, each HttpOnly and SameSite=Lax, Secure when the request came over HTTPS:
- `citycert_session`: the secret of a signed-in person's session (app/sign_in.py keeps its hash);
- `citycert_visitor`: a random value given before sign-in, to which the sign-in forms' CSRF token
  is bound (an HMAC of it under the sign-in key, so a planted cookie is no use without the key);
- `citycert_lang`: the language the visitor chose with the switch;
- `citycert_sign_in`: a random nonce given when the sign-in form is posted, which the mailed link
  is bound to (app/sign_in.py): opened in a browser without it, the link asks before signing in.

Signed in, a form's CSRF token is the session's own (kept with it). Every POST checks it.
"""

from __future__ import annotations

import hmac
import secrets
from typing import cast

from fastapi import Request, Response

from app.services import Services
from app.sign_in import Session, form_token, session_of
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


async def load_session(request: Request) -> None:
    """Every page's first step: find the session its cookie opens, and give a visitor without one
    the random value its sign-in forms are bound to."""
    svc = services_of(request)
    request.state.session = None
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        request.state.session = await session_of(svc.store, secret, idle=svc.settings.session_idle)
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
