"""The local operator token of `citycert dev`: made once, kept in a private file, known to the store."""

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
    secret, created = await ensure_operator_token(store, settings)
    assert created and token_path(settings).read_text().strip() == secret
    info = await verify_token(store, secret)
    assert info is not None and info.role == "operator" and info.subject == "dev-operator"
    async with store.connection() as conn:
        assert (
            await conn.fetchval("SELECT count(*) FROM api_tokens WHERE token_hash::text LIKE '%cct_%'") == 0
        )

    again, created = await ensure_operator_token(store, settings)
    assert (again, created) == (secret, False), "the same token on every start"

    # A token the database does not know (a new database) or no longer honours is replaced.
    assert await revoke_token(store, info.id)
    replaced, created = await ensure_operator_token(store, settings)
    assert created and replaced != secret and read_secret(token_path(settings)) == replaced
    write_secret(token_path(settings), "cct_from-another-database")
    _, created = await ensure_operator_token(store, settings)
    assert created
    assert len([t for t in await list_tokens(store) if t.revoked_at is None]) == 2
