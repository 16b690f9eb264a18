"""Operators' view of the API tokens: list them, revoke one, rotate one (its secret shown once).

Creating a token stays on the command line (`citycert token create`): the first operator token has
to come from somewhere, and a new identity's home city is the operator's to set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from app.tokens import (
    TokenError,
    TokenInfo,
    UnknownToken,
    database_now,
    get_token,
    list_tokens,
    revoke_token,
    rotate_token,
)
from entrypoints.http.auth import note, role_in
from entrypoints.http.errors import ApiError
from entrypoints.http.models import Problem, RotatedTokenOut, TokenOut
from entrypoints.http.services import Svc

router = APIRouter(prefix="/v1", tags=["tokens"])

Operator = Annotated[TokenInfo, Depends(role_in("operator"))]
# No pattern: an id no token could have is an unknown token (404), as for cities.
TokenIdPath = Annotated[str, Path(description="The token's id, e.g. tok_0123456789ab")]
UNKNOWN_TOKEN = {"model": Problem, "description": "No such token (`unknown_token`)"}


def token_out(info: TokenInfo, now: datetime) -> TokenOut:
    return TokenOut(
        id=info.id,
        role=info.role,
        subject=info.subject,
        city_id=info.city_id,
        created_at=info.created_at,
        expires_at=info.expires_at,
        last_used_at=info.last_used_at,
        revoked_at=info.revoked_at,
        replaced_by=info.replaced_by,
        status=info.status(now),
    )


def _unknown(token_id: str) -> ApiError:
    return _refused(404, "unknown_token", UnknownToken(token_id))


def _refused(status: int, error: str, e: TokenError) -> ApiError:
    """The token's refusal as every other refusal is answered: its English, and its words as data
    (a client in another language says them as the operators' page does)."""
    return ApiError(status, error, str(e), refusal=e.refusal.to_data())


@router.get("/tokens", response_model=list[TokenOut])
async def tokens(svc: Svc, who: Operator) -> list[TokenOut]:
    """Every token, oldest first, expired and revoked ones included (see `status`)."""
    now = await database_now(svc.store)
    return [token_out(t, now) for t in await list_tokens(svc.store)]


@router.post("/tokens/{token_id}/revocation", response_model=TokenOut, responses={404: UNKNOWN_TOKEN})
async def revocation(request: Request, token_id: TokenIdPath, svc: Svc, who: Operator) -> TokenOut:
    """Revoke a token at once: every request with it is then a 401 saying it was revoked. Revoking
    a revoked token changes nothing and answers it as it is."""
    await revoke_token(svc.store, token_id)
    info = await get_token(svc.store, token_id)
    if info is None:
        raise _unknown(token_id)
    note(request, revoked=token_id)
    return token_out(info, await database_now(svc.store))


@router.post(
    "/tokens/{token_id}/rotation",
    response_model=RotatedTokenOut,
    status_code=201,
    responses={
        404: UNKNOWN_TOKEN,
        409: {"model": Problem, "description": "The token is revoked (`token_revoked`): create a new one"},
    },
)
async def rotation(request: Request, token_id: TokenIdPath, svc: Svc, who: Operator) -> RotatedTokenOut:
    """A new token for the same identity (role, subject, city) with a fresh lifetime; the old one
    is revoked at once. The new secret is in this answer only. An expired token may be rotated."""
    try:
        issued = await rotate_token(svc.store, token_id, lifetimes=svc.settings.token_lifetime_of)
    except UnknownToken as e:
        raise _refused(404, "unknown_token", e) from None
    except TokenError as e:
        raise _refused(409, "token_revoked", e) from None
    note(request, rotated=token_id, new_token_id=issued.info.id)
    return RotatedTokenOut(token=token_out(issued.info, issued.info.created_at), secret=issued.secret)
