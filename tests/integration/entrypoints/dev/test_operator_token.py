"""The local operator token of `citycert dev`: made once, kept in a private file, known to the store,
and made again when it expired or was revoked."""

from __future__ import annotations

from pathlib import Path

from app.tokens import list_tokens, revoke_token, verify_token
from entrypoints.dev.runtime import (
    ensure_operator_token,
    read_secret,
    token_path,
    write_secret,
)
from eventstore import EventStore
from runtime.settings import Settings


async def test_the_operator_token_is_made_once_and_kept_only_locally(
    store: EventStore, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path)
    first = await ensure_operator_token(store, settings)
    assert first.created and token_path(settings).read_text().strip() == first.secret
    info = await verify_token(store, first.secret)
    assert info is not None and info.role == "operator" and info.subject == "dev-operator"
    assert first.expires_at == info.expires_at
    async with store.connection() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM api_tokens WHERE token_hash::text LIKE '%cct_%'") == 0
        )

    again = await ensure_operator_token(store, settings)
    assert (again.secret, again.created) == (first.secret, False), "the same token on every start"

    # A token the database does not know (a new database), no longer honours, or that expired is
    # replaced.
    assert await revoke_token(store, info.id)
    replaced = await ensure_operator_token(store, settings)
    assert replaced.created and replaced.secret != first.secret
    assert read_secret(token_path(settings)) == replaced.secret
    write_secret(token_path(settings), "cct_from-another-database")
    assert (await ensure_operator_token(store, settings)).created
    async with store.connection() as conn:
        await conn.execute("UPDATE api_tokens SET expires_at = now() WHERE revoked_at IS NULL")
    renewed = await ensure_operator_token(store, settings)
    assert renewed.created and await verify_token(store, renewed.secret) is not None
    assert len([t for t in await list_tokens(store) if t.revoked_at is None]) == 3
    assert {t.subject for t in await list_tokens(store)} == {"dev-operator"}, "one identity throughout"
