"""Numbered SQL migrations (eventstore/migrations/NNNN_name.sql), applied at start.

A session advisory lock makes concurrent starts take turns: the second process waits, then finds
the migrations recorded and applies nothing. Each migration runs in its own transaction together
with its row in schema_migrations, so a failure leaves neither half behind.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from eventstore.errors import MigrationError

# Two-int advisory key space (class 7311 = this store), apart from the per-stream bigint keys.
_LOCK = (7311, 2)
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def shipped_migrations() -> list[Migration]:
    folder = resources.files("eventstore") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


async def migrate(conn: asyncpg.Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply the migrations not yet recorded; returns the versions applied by this call."""
    migrations = shipped_migrations() if migrations is None else migrations
    applied_now: list[int] = []
    await conn.execute("SELECT pg_advisory_lock($1, $2)", *_LOCK)
    try:
        try:
            await conn.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version     integer PRIMARY KEY,
                    name        text NOT NULL,
                    checksum    text NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now()
                )
                """
            )
        except asyncpg.InsufficientPrivilegeError as e:  # a runtime role (0008) may not migrate
            raise MigrationError(f"cannot migrate as {conn.get_settings().session_authorization}: {e}") from e
        recorded = {
            r["version"]: r for r in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        }
        for migration in migrations:
            done = recorded.get(migration.version)
            if done is not None:
                if done["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was edited after it was "
                        "applied; add a new migration instead"
                    )
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        migration.version,
                        migration.name,
                        migration.checksum,
                    )
            except asyncpg.PostgresError as e:
                hint = f" (hint: {e.hint})" if getattr(e, "hint", None) else ""
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} failed: {e}{hint}"
                ) from e
            applied_now.append(migration.version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1, $2)", *_LOCK)
    return applied_now


async def pending_migrations(
    conn: asyncpg.Connection, migrations: list[Migration] | None = None
) -> list[Migration]:
    """The migrations this database has not recorded (every one on an empty database). Needs only
    SELECT on schema_migrations, so a runtime role that may not migrate can ask before it starts."""
    migrations = shipped_migrations() if migrations is None else migrations
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return list(migrations)
    try:
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    except asyncpg.InsufficientPrivilegeError as e:  # a runtime role on a database before 0008
        raise MigrationError(f"{e}: the database was not migrated for a runtime role (0008_roles)") from e
    recorded = {r["version"]: r["checksum"] for r in rows}
    for migration in migrations:
        if migration.version in recorded and recorded[migration.version] != migration.checksum:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} was edited after it was applied; "
                "add a new migration instead"
            )
    return [m for m in migrations if m.version not in recorded]


async def holds_event_log(conn: asyncpg.Connection) -> bool | None:
    """Whether this connection's role owns the events table (or acts as its owner, a superuser
    included): such a role could disable the append-only trigger, so it is the one to migrate
    with and not one to run with. None when there is no events table yet."""
    held: bool | None = await conn.fetchval(
        "SELECT pg_has_role(current_user, c.relowner, 'MEMBER')"
        " FROM pg_class c WHERE c.oid = to_regclass('events')"
    )
    return held
