"""The programme's published credential key, as a verifier meets it: fetched once with no token, then
enough on its own to check a certificate's credential (no private key, no app object, no database)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.credentials import (
    CertificateFacts,
    CertificateStatus,
    Issuer,
    Refused,
    Verified,
    issue_credential,
    public_key_from_document,
    verify_credential,
)
from domain.levels import Level
from entrypoints.http import create_app
from eventstore import EventStore
from runtime.credential_key import load_credential_key, write_new_credential_key
from tests.integration.entrypoints.http.conftest import Api, api_settings, app_client
from tests.temporal_env import time_skipping_environment

PUBLIC_URL = "https://certify.example.org"
KEY_PATH = "/public/credentials/key"


@dataclass
class Programme:
    http: httpx.AsyncClient
    key_file: Path


@pytest.fixture
async def programme(store: EventStore, tmp_path: Path) -> AsyncIterator[Programme]:
    """The API of a programme that holds a credential key and has a public URL."""
    key_file = tmp_path / "credential-key.pem"
    write_new_credential_key(key_file)
    async with time_skipping_environment() as env:
        config = api_settings(credential_key_file=key_file, public_url=PUBLIC_URL, programme_name="WWC")
        app = create_app(config, client=env.client, store=store)
        async with app_client(app) as http:
            yield Programme(http=http, key_file=key_file)


def _credential_issued_by(key: Ed25519PrivateKey) -> str:
    """What a city receives: the credential as JSON text (issued as the programme's code will)."""
    now = datetime.now(UTC)
    facts = CertificateFacts(
        number="CC-2026-LAKESIDE-1",
        city_id="lakeside",
        city_name="Lakeside",
        country="US",
        region="Ohio",
        level=Level.PLATINUM,
        standard_version="wwc-2022",
        round_id="2026-fall",
        valid_from=now - timedelta(days=1),
        valid_until=now + timedelta(days=3 * 365),
        status=CertificateStatus.VALID,
    )
    return json.dumps(issue_credential(facts, key, issuer=Issuer(public_url=PUBLIC_URL, name="WWC")))


def _verify_with_only(published: dict[str, Any], credential_text: str) -> Verified | Refused:
    """The verifier's side: nothing but the document it fetched and the credential it was shown."""
    return verify_credential(
        json.loads(credential_text), public_key_from_document(published), at=datetime.now(UTC)
    )


async def test_a_credential_verifies_against_the_key_document_anyone_fetches_without_a_token(
    programme: Programme,
) -> None:
    credential = _credential_issued_by(load_credential_key(programme.key_file))

    response = await programme.http.get(KEY_PATH)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=3600"
    published = response.json()
    assert published["id"] == f"{PUBLIC_URL}{KEY_PATH}"
    result = _verify_with_only(published, credential)
    assert isinstance(result, Verified), result
    assert (result.number, result.level, result.issuer_id) == (
        "CC-2026-LAKESIDE-1",
        "platinum",
        published["id"],
    )
    assert json.loads(credential)["proof"]["verificationMethod"] in published["assertionMethod"]


async def test_the_published_key_refuses_a_credential_signed_with_another_key(programme: Programme) -> None:
    forged = _credential_issued_by(Ed25519PrivateKey.generate())

    published = (await programme.http.get(KEY_PATH)).json()

    result = _verify_with_only(published, forged)
    assert isinstance(result, Refused)
    assert result.reason.startswith("not verified: it was signed with the key z6Mk")


async def test_the_same_key_is_published_as_a_multikey_and_as_a_jwk(programme: Programme) -> None:
    published = (await programme.http.get(KEY_PATH)).json()

    multikey, jwk = published["verificationMethod"]
    assert (multikey["type"], jwk["type"]) == ("Multikey", "JsonWebKey")
    assert multikey["publicKeyMultibase"].startswith("z6Mk")
    assert {k: jwk["publicKeyJwk"][k] for k in ("kty", "crv", "alg")} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
    }
    assert public_key_from_document(multikey) == public_key_from_document(jwk["publicKeyJwk"])


async def test_a_programme_without_a_credential_key_publishes_none(api: Api) -> None:
    response = await api.http.get(KEY_PATH)

    assert response.status_code == 404
    assert response.json()["error"] == "no_credential_key"
    assert "CITYCERT_CREDENTIAL_KEY_FILE" in response.json()["detail"]


async def test_the_openapi_document_describes_the_key_route_exactly(api: Api) -> None:
    document = (await api.http.get("/openapi.json")).json()

    operation = document["paths"][KEY_PATH]["get"]
    assert sorted(operation["responses"]) == ["200", "404"]
    assert "security" not in operation  # no token
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/KeyDocumentOut"}
    properties = document["components"]["schemas"]["KeyDocumentOut"]["properties"]
    assert {"@context", "id", "name", "verificationMethod", "assertionMethod"} == set(properties)
