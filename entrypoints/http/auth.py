"""Bearer-token authentication and the role/city rules of each endpoint.

Order of refusals: 401 (no valid token), then 403 (role, or a city the token is not bound to),
then 404 (no such city): a caller learns nothing about cities it may not act on.

The token is checked before the body is read: `AuthenticateFirst`, an ASGI middleware, answers
401 for a request under /v1/ (every route there depends on `principal`) before the route
receives a byte of the body, so a caller without a valid token cannot make the API read (and
hold) up to the body cap. The token it verified is handed to `principal` in the request's scope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app import errors as app_errors
from app.errors import UnknownCity
from app.services import Services
from app.tokens import TokenInfo, TokenRefused, authenticate
from domain import commands as cmd
from domain.authority import roles_that_may_give
from domain.ids import is_city_id
from entrypoints.http.errors import ApiError, app_error, forbidden, unauthenticated
from entrypoints.http.openapi import answers
from entrypoints.http.services import services

bearer = HTTPBearer(
    auto_error=False,
    description="A token from `citycert token create --role ROLE [--city ID] [--name NAME]`; it "
    "expires (90 days, operators' 7) and may be revoked or rotated (`/v1/tokens`)",
)
TOKEN_SCOPE_KEY = "citycert.token"

# No pattern or length here: an id no city could have is an unknown city (404, after the token's
# rights are checked), as callers have always been answered.
CityIdPath = Annotated[str, Path(description="The city's id, e.g. lakeside")]


def note(request: Request, **fields: object) -> None:
    """Add fields to this request's log line (see entrypoints.http.middleware.RequestLog)."""
    found = request.scope.get("citycert.log")
    if isinstance(found, dict):
        found.update(fields)


async def token_of(svc: Services, authorization: str | None) -> TokenInfo:
    """The token an Authorization header carries, verified; 401 saying why otherwise."""
    scheme, _, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthenticated("send a token: Authorization: Bearer <token>")
    try:
        return await authenticate(svc.store, secret.strip())
    except TokenRefused as e:
        raise unauthenticated(e.message) from None


@answers(401)
async def principal(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    # Not read here (the header is): declared so the OpenAPI document names the bearer scheme.
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenInfo:
    """The verified token of this request (AuthenticateFirst checked it); 401 without one."""
    info = request.scope.get(TOKEN_SCOPE_KEY)
    if not isinstance(info, TokenInfo):  # an app mounted without the middleware
        info = await token_of(svc, request.headers.get("authorization"))
    note(request, role=info.role, token_id=info.id)
    return info


Principal = Annotated[TokenInfo, Depends(principal)]


def role_in(*roles: str) -> Callable[[TokenInfo], Awaitable[TokenInfo]]:
    """A dependency admitting only these roles (403 for the others)."""

    @answers(403)
    async def check(who: Principal) -> TokenInfo:
        if who.role not in roles:
            raise forbidden(f"a {who.role} token may not do this; it needs the role {' or '.join(roles)}")
        return who

    return check


def city_scope(who: TokenInfo, city_id: str) -> None:
    """A city token acts on and reads its own city only; 404 for an id no city could have."""
    if who.role == "city" and who.city_id != city_id:
        raise forbidden(f"this token is for city {who.city_id!r}, not {city_id!r}")
    if not is_city_id(city_id):
        raise UnknownCity(city_id)


def acting_on_city(*roles: str) -> Callable[..., Awaitable[TokenInfo]]:
    """A dependency for a command on /cities/{city_id}: the role, then the city binding."""
    allowed = role_in(*roles)

    @answers(403, 404)
    async def check(request: Request, city_id: CityIdPath, who: Principal) -> TokenInfo:
        await allowed(who)
        city_scope(who, city_id)
        note(request, city_id=city_id)
        return who

    return check


def giving(*commands: type[cmd.Command]) -> Callable[..., Awaitable[TokenInfo]]:
    """A dependency for an endpoint on /cities/{city_id} that gives these commands: the roles the
    domain says may give them (domain/authority.py, which the workflow checks again), then the city."""
    return acting_on_city(*_roles(commands))


def giving_anywhere(*commands: type[cmd.Command]) -> Callable[[TokenInfo], Awaitable[TokenInfo]]:
    """The same for an endpoint with no city in its path (registration)."""
    return role_in(*_roles(commands))


def _roles(commands: tuple[type[cmd.Command], ...]) -> list[str]:
    return sorted(set().union(*(roles_that_may_give(c) for c in commands)))


@answers(403, 404)
async def reading_city(request: Request, city_id: CityIdPath, who: Principal) -> TokenInfo:
    """Any role may read a city, a city token only its own."""
    city_scope(who, city_id)
    note(request, city_id=city_id)
    return who


CityReader = Annotated[TokenInfo, Depends(reading_city)]


PROTECTED = "/v1/"  # every route under it depends on `principal` (a test checks the document)


class AuthenticateFirst:
    """Checks the token of a request under /v1/ before anything reads its body: 401 at once for a
    missing, unknown, expired or revoked token (the body is never received), 503 when the token
    store is unavailable. /health and the docs need no token and pass as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED):
            await self.app(scope, receive, send)
            return
        svc = getattr(scope["app"].state, "services", None)
        if svc is None:  # still starting: the route's own dependency answers 503
            await self.app(scope, receive, send)
            return
        try:
            info = await token_of(svc, Headers(scope=scope).get("authorization"))
        except ApiError as e:
            response = e.response()
        except Exception as e:
            translated = app_errors.translate(e)
            if translated is None:
                raise
            response = app_error(translated).response()
        else:
            scope[TOKEN_SCOPE_KEY] = info
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
