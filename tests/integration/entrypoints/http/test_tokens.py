"""Operators list, revoke and rotate tokens over the API; nobody else may, and no answer shows a
secret or a hash except the one new secret of a rotation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from app.tokens import IssuedToken, issue_token
from entrypoints.http import create_app
from eventstore import EventStore
from tests.integration.entrypoints.http.conftest import api_settings, app_client
from tests.temporal_env import free_port


@dataclass
class Tokens:
    http: httpx.AsyncClient
    store: EventStore
    operator: IssuedToken
    reviewer: IssuedToken

    @staticmethod
    def bearer(token: IssuedToken | str) -> dict[str, str]:
        secret = token if isinstance(token, str) else token.secret
        return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
async def tokens(store: EventStore) -> AsyncIterator[Tokens]:
    """The API (no Temporal behind it: tokens never need it), an operator's and a reviewer's token."""
    nowhere = await Client.connect(
        f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter
    )
    app = create_app(api_settings(), client=nowhere, store=store)
    operator = await issue_token(store, "operator", name="op-1")
    reviewer = await issue_token(store, "reviewer", "riverton", "rev-ana")
    async with app_client(app) as http:
        yield Tokens(http, store, operator, reviewer)


async def test_an_operator_lists_every_token_without_a_secret_or_hash(tokens: Tokens) -> None:
    response = await tokens.http.get("/v1/tokens", headers=tokens.bearer(tokens.operator))
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [(t["id"], t["role"], t["subject"], t["city_id"], t["status"]) for t in listed] == [
        (tokens.operator.info.id, "operator", "op-1", None, "active"),
        (tokens.reviewer.info.id, "reviewer", "rev-ana", "riverton", "active"),
    ]
    assert listed[0]["last_used_at"] is not None, "this very request used it"
    assert set(listed[0]) == {
        "id",
        "role",
        "subject",
        "city_id",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "replaced_by",
        "status",
    }
    assert "cct_" not in response.text


async def test_a_revoked_token_is_refused_from_then_on(tokens: Tokens) -> None:
    path = f"/v1/tokens/{tokens.reviewer.info.id}/revocation"
    revoked = await tokens.http.post(path, headers=tokens.bearer(tokens.operator))
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"] is not None
    again = await tokens.http.post(path, headers=tokens.bearer(tokens.operator))
    assert again.json() == revoked.json(), "revoking again changes nothing"
    refused = await tokens.http.get("/v1/review-queue", headers=tokens.bearer(tokens.reviewer))
    assert refused.status_code == 401 and "was revoked at" in refused.json()["detail"]


async def test_a_rotation_answers_the_new_secret_once_and_retires_the_old(tokens: Tokens) -> None:
    path = f"/v1/tokens/{tokens.reviewer.info.id}/rotation"
    rotated = await tokens.http.post(path, headers=tokens.bearer(tokens.operator))
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert (new["token"]["subject"], new["token"]["city_id"], new["token"]["status"]) == (
        "rev-ana",
        "riverton",
        "active",
    )
    assert (
        await tokens.http.get("/v1/review-queue", headers=tokens.bearer(new["secret"]))
    ).status_code == 200
    old = await tokens.http.get("/v1/review-queue", headers=tokens.bearer(tokens.reviewer))
    assert old.status_code == 401 and f"replaced by {new['token']['id']}" in old.json()["detail"]
    listed = (await tokens.http.get("/v1/tokens", headers=tokens.bearer(tokens.operator))).json()
    assert new["secret"] not in str(listed)
    # A revoked token is not rotated; an unknown one is not found.
    twice = await tokens.http.post(path, headers=tokens.bearer(tokens.operator))
    assert (twice.status_code, twice.json()["error"]) == (409, "token_revoked")
    for unknown in ("tok_000000000000", "not-a-token-id", "%00"):
        for action in ("rotation", "revocation"):
            missing = await tokens.http.post(
                f"/v1/tokens/{unknown}/{action}", headers=tokens.bearer(tokens.operator)
            )
            assert (missing.status_code, missing.json()["error"]) == (404, "unknown_token"), (unknown, action)


async def test_only_operators_see_or_touch_tokens(tokens: Tokens) -> None:
    committee = await issue_token(tokens.store, "committee", name="chair")
    for who in (tokens.reviewer, committee):
        for method, path in (
            ("GET", "/v1/tokens"),
            ("POST", f"/v1/tokens/{tokens.operator.info.id}/revocation"),
            ("POST", f"/v1/tokens/{tokens.operator.info.id}/rotation"),
        ):
            response = await tokens.http.request(method, path, headers=tokens.bearer(who))
            assert response.status_code == 403, (who.info.role, path, response.text)
    assert (await tokens.http.get("/v1/tokens")).status_code == 401
    assert (await tokens.http.get("/v1/tokens", headers=tokens.bearer(tokens.operator))).status_code == 200


async def test_a_token_refused_carries_its_words_as_data_as_every_refusal_does(tokens: Tokens) -> None:
    # Given the reviewer's token revoked
    path = f"/v1/tokens/{tokens.reviewer.info.id}/revocation"
    assert (await tokens.http.post(path, headers=tokens.bearer(tokens.operator))).status_code == 200
    # When an operator rotates it, and revokes a token no one has
    rotated = await tokens.http.post(
        f"/v1/tokens/{tokens.reviewer.info.id}/rotation", headers=tokens.bearer(tokens.operator)
    )
    unknown = await tokens.http.post(
        "/v1/tokens/tok_000000000000/revocation", headers=tokens.bearer(tokens.operator)
    )
    # Then each answer says why in English and as the refusal's template and values
    assert rotated.status_code == 409
    refused = rotated.json()
    assert refused["refusal"]["template"].startswith("the token {token_id} was revoked at {revoked_at}")
    assert refused["refusal"]["params"]["token_id"] == {"str": tokens.reviewer.info.id}
    assert refused["detail"].startswith(f"the token {tokens.reviewer.info.id} was revoked at ")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": "unknown_token",
        "detail": "no token 'tok_000000000000'",
        "refusal": {"template": "no token {token_id!r}", "params": {"token_id": {"str": "tok_000000000000"}}},
    }
