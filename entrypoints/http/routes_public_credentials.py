"""The programme's public key for its certificates' credentials, for anyone (no token).

A verifier fetches it once, saves it, and checks every citycert credential offline against it
(`citycert credential verify FILE --key SAVED_DOCUMENT`, or any Data Integrity verifier that knows
eddsa-jcs-2022): a controller document (W3C Controlled Identifiers) whose id is the credentials'
issuer, with the key as a Multikey, which the proofs name, and the same key as a JSON Web Key.
"""

from __future__ import annotations

from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from app.credentials import Issuer, key_document
from entrypoints.http.errors import ApiError
from entrypoints.http.models import Out, Problem

router = APIRouter(prefix="/public", tags=["public"])

STATE_KEY = "credential_key_document"  # app.state: the document, made once at start-up (or None)
CACHE_CONTROL = "public, max-age=3600"  # a key changes rarely; an hour's copy in a cache is harmless


class PublicJwk(Out):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str = Field(description="the raw public key, base64url without padding")
    kid: str = Field(description="its RFC 7638 thumbprint")
    alg: Literal["EdDSA"]
    use: Literal["sig"]


class MultikeyMethod(Out):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str = Field(description="what a credential's proof names as its verificationMethod")
    type: Literal["Multikey"]
    controller: str
    public_key_multibase: str = Field(
        alias="publicKeyMultibase", pattern="^z6Mk", description="the Ed25519 key, multibase base58btc"
    )


class JsonWebKeyMethod(Out):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    type: Literal["JsonWebKey"]
    controller: str
    public_key_jwk: PublicJwk = Field(alias="publicKeyJwk")


class KeyDocumentOut(Out):
    """The programme's controller document: its credential key as a Multikey and as a JWK."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    context: Literal["https://www.w3.org/ns/cid/v1"] = Field(alias="@context")
    id: str = Field(description="the issuer id of every credential the programme signs")
    name: str = Field(description="the programme's name")
    verification_method: tuple[MultikeyMethod, JsonWebKeyMethod] = Field(alias="verificationMethod")
    assertion_method: list[str] = Field(
        alias="assertionMethod", description="the verification methods that may sign credentials"
    )


def published_key_document(public_key: Ed25519PublicKey | None, issuer: Issuer) -> dict[str, Any] | None:
    """What this route serves, made once when the app is built."""
    return None if public_key is None else key_document(public_key, issuer)


NO_KEY: dict[str, Any] = {
    "model": Problem,
    "description": "This programme publishes no credential key (`no_credential_key`: "
    "CITYCERT_CREDENTIAL_KEY_FILE is not set)",
}


@router.get(
    "/credentials/key",
    response_model=KeyDocumentOut,
    response_model_by_alias=True,
    responses={404: NO_KEY},
)
async def credential_key(request: Request) -> Any:
    """The public key every certificate's credential is signed with (no token needed): save it,
    then check credentials offline with `citycert credential verify FILE --key SAVED_FILE`."""
    document = getattr(request.app.state, STATE_KEY, None)
    if document is None:
        raise ApiError(
            404,
            "no_credential_key",
            "this programme publishes no credential key: "
            "its operator has not set CITYCERT_CREDENTIAL_KEY_FILE",
        )
    body = KeyDocumentOut.model_validate(document).model_dump(mode="json", by_alias=True)
    return JSONResponse(body, headers={"Cache-Control": CACHE_CONTROL})
