"""Bearer-token authentication and the role/city rules of each endpoint.

Order of refusals: 401 (no valid token), then 403 (role, or a city the token is not bound to),
then 404 (no such city): a caller learns nothing about cities it may not act on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import UnknownCity
from app.services import Services
from app.tokens import TokenInfo, verify_token
from domain import commands as cmd
from domain.authority import roles_that_may_give
from domain.ids import is_city_id
from entrypoints.http.errors import forbidden, unauthenticated
from entrypoints.http.openapi import answers
from entrypoints.http.services import services

bearer = HTTPBearer(
    auto_error=False,
    description="A token from `citycert token create --role ROLE [--city ID] [--name NAME]`",
)

# No pattern or length here: an id no city could have is an unknown city (404, after the token's
# rights are checked), as callers have always been answered.
CityIdPath = Annotated[str, Path(description="The city's id, e.g. lakeside")]


def note(request: Request, **fields: object) -> None:
    """Add fields to this request's log line (see entrypoints.http.middleware.RequestLog)."""
    found = request.scope.get("citycert.log")
    if isinstance(found, dict):
        found.update(fields)


@answers(401)
async def principal(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> TokenInfo:
    """The verified token of this request; 401 without one."""
    if credentials is None:
        raise unauthenticated("send a token: Authorization: Bearer <token>")
    info = await verify_token(svc.store, credentials.credentials)
    if info is None:
        raise unauthenticated("the token is unknown or revoked")
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
