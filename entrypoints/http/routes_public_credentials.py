"""The programme's public key for its certificates' credentials, for anyone (no token).

A verifier fetches it once, saves it, and checks every citycert credential offline against it
(`citycert credential verify FILE --key SAVED_DOCUMENT`, or any Data Integrity verifier that knows
eddsa-jcs-2022): a controller document (W3C Controlled Identifiers) whose id is the credentials'
issuer, with the key as a Multikey, which the proofs name, and the same key as a JSON Web Key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict, Field

from app.credentials import CredentialSigner
from entrypoints.http.errors import ApiError
from entrypoints.http.models import Out, Problem

router = APIRouter(prefix="/public", tags=["public"])

STATE_KEY = "credential_signer"  # app.state: the CredentialSigner made at start-up, None without a key
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
        alias="publicKeyMultibase", description="the Ed25519 key, multibase base58btc (z6Mk...)"
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


def signer_of(request: Request) -> CredentialSigner:
    """The programme's credential signer, for a route that issues or publishes (404 without a key)."""
    signer = getattr(request.app.state, STATE_KEY, None)
    if not isinstance(signer, CredentialSigner):
        raise ApiError(
            404,
            "no_credential_key",
            "this programme publishes no credential key: "
            "its operator has not set CITYCERT_CREDENTIAL_KEY_FILE",
        )
    return signer


Signer = Annotated[CredentialSigner, Depends(signer_of)]


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
async def credential_key(signer: Signer) -> Any:
    """The public key every certificate's credential is signed with (no token needed): save it,
    then check credentials offline with `citycert credential verify FILE --key SAVED_FILE`."""
    body = KeyDocumentOut.model_validate(signer.key_document()).model_dump(mode="json", by_alias=True)
    return JSONResponse(body, headers={"Cache-Control": CACHE_CONTROL})
