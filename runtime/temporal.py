"""Connecting to Temporal the one way citycert does it, and registering our search attributes.

Every client uses the pydantic data converter, so workflow, activity and update models travel as
JSON and come back as the same pydantic types.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode, TLSConfig

from runtime import embedded_temporal, telemetry
from runtime.process import StartupError, ensure_port_free, port_answers
from runtime.settings import Settings, env_name

log = structlog.get_logger(__name__)

_RPC_TIMEOUT = timedelta(seconds=10)
_CONNECT_TIMEOUT = 15.0  # seconds for a configured Temporal to answer


class SearchAttributeError(RuntimeError):
    """A search attribute is missing, or registered with another type, and we cannot fix it."""


def local_address(settings: Settings) -> str:
    """Where the embedded dev server listens when no address is configured (loopback only)."""
    return f"127.0.0.1:{settings.temporal_port}"


async def connect(settings: Settings, *, address: str | None = None, **kwargs: Any) -> Client:
    """Connect with namespace and TLS from settings.

    `address` overrides settings.temporal_address; with neither, the embedded dev server's
    address is used (start it first with runtime.embedded_temporal). Extra keyword arguments go
    to Client.connect (interceptors, identity, ...).
    """
    target = address or settings.temporal_address or local_address(settings)
    # Traces and the SDK's metrics when they are on (runtime/telemetry.py); workers built on the
    # client inherit its interceptors.
    kwargs["interceptors"] = [*telemetry.temporal_interceptors(), *kwargs.get("interceptors", ())]
    if (runtime := telemetry.temporal_runtime()) is not None:
        kwargs.setdefault("runtime", runtime)
    return await Client.connect(
        target, data_converter=pydantic_data_converter, **client_options(settings), **kwargs
    )


def client_options(settings: Settings) -> dict[str, Any]:
    """Namespace, TLS (with the CA, client certificate and key when given) and API key, as
    Client.connect takes them."""
    tls: bool | TLSConfig = settings.temporal_uses_tls
    if settings.temporal_tls_ca or settings.temporal_tls_cert or settings.temporal_tls_server_name:
        tls = TLSConfig(
            server_root_ca_cert=_read(settings.temporal_tls_ca),
            client_cert=_read(settings.temporal_tls_cert),
            client_private_key=_read(settings.temporal_tls_key),
            domain=settings.temporal_tls_server_name,
        )
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return {"namespace": settings.temporal_namespace, "tls": tls, "api_key": api_key}


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


@dataclass(frozen=True)
class TemporalInfo:
    address: str
    namespace: str
    ui_url: str | None  # None: a configured cluster, whose UI we do not know
    started_here: bool


@asynccontextmanager
async def open_temporal(
    settings: Settings,
    *,
    start_dev_server: bool,
    search_attributes: Sequence[SearchAttributeKey[Any]] = (),
) -> AsyncIterator[tuple[Client, TemporalInfo]]:
    """A client for these settings, and where it points: the one way citycert connects.

    With CITYCERT_TEMPORAL_ADDRESS unset: with `start_dev_server`, the embedded dev server (or one
    already answering on its port, which is then left running); without, a dev server must already
    answer there (a command that needs a worker would otherwise only wait for its timeout).
    `search_attributes` are registered on the way in, so workflows can upsert them at once.
    Leaving the block stops the dev server if this call started it. Problems are StartupErrors
    naming the setting to change.
    """
    async with AsyncExitStack() as stack:
        configured = settings.temporal_address
        ui_url: str | None = None
        started_here = False
        if configured:
            address = configured
        elif start_dev_server:
            address, ui_url, started_here = await _dev_server(settings, stack, search_attributes)
        else:
            address = local_address(settings)
            if not port_answers(embedded_temporal.HOST, settings.temporal_port):
                raise StartupError(
                    f"no Temporal server runs on {address}: start `citycert dev` (or set "
                    f"{env_name('temporal_address')} to your cluster) first"
                )
        try:
            client = await asyncio.wait_for(connect(settings, address=address), _CONNECT_TIMEOUT)
            if search_attributes:
                await ensure_search_attributes(client, settings.temporal_namespace, search_attributes)
        except SearchAttributeError:
            raise
        except Exception as e:
            hint = (
                f"check {env_name('temporal_address')}, {env_name('temporal_namespace')} and the TLS "
                f"settings ({env_name('temporal_tls')}, _TLS_CA, _TLS_CERT, _TLS_KEY, _API_KEY)"
                if configured
                else f"start `citycert dev`, or set {env_name('temporal_address')} "
                f"(or {env_name('temporal_port')})"
            )
            raise StartupError(f"cannot use Temporal at {address}: {e or type(e).__name__}; {hint}") from e
        yield client, TemporalInfo(address, settings.temporal_namespace, ui_url, started_here)


async def _dev_server(
    settings: Settings, stack: AsyncExitStack, search_attributes: Sequence[SearchAttributeKey[Any]]
) -> tuple[str, str | None, bool]:
    """Start (or reuse) the embedded dev server for the stack's lifetime: address, UI, owned."""
    reusing = port_answers(embedded_temporal.HOST, settings.temporal_port)
    if not reusing:
        ensure_port_free(
            embedded_temporal.HOST,
            settings.temporal_ui_port,
            setting=env_name("temporal_ui_port"),
            what="the Temporal web UI",
        )
    try:
        server = await embedded_temporal.start_dev_server(
            settings, startup_timeout=10.0 if reusing else 60.0, search_attributes=search_attributes
        )
    except (embedded_temporal.TemporalStartError, FileNotFoundError) as e:
        raise StartupError(
            f"the Temporal dev server did not start: {e}\n(settings: {env_name('temporal_port')}, "
            f"{env_name('temporal_ui_port')}, {env_name('data_dir')})"
        ) from e
    stack.push_async_callback(server.aclose)
    return server.address, server.ui_url, server.owned


async def ensure_search_attributes(
    client: Client,
    namespace: str,
    keys: Iterable[SearchAttributeKey[Any]],
) -> None:
    """Register our custom search attributes in `namespace`; safe to call on every start.

    Needed on an external cluster, on the time-skipping test server, and on the dev server too:
    `start-dev --search-attribute` is ignored for a database file that already exists, so an
    attribute added to citycert later would never reach a developer's existing .citycert/.

    Raises SearchAttributeError when a name exists with another type: the SQLite dev server
    accepts such an add silently and keeps the old type, so we check after adding.
    """
    wanted = {key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in keys}
    existing = await _list_custom(client, namespace)
    if existing is None:
        # The time-skipping test server cannot list; it answers ALREADY_EXISTS to a repeat add.
        for name, kind in wanted.items():
            await _add(client, namespace, {name: kind})
        return
    _check_types(wanted, existing, namespace)
    missing = {name: kind for name, kind in wanted.items() if name not in existing}
    if not missing:
        return
    await _add(client, namespace, missing)
    log.info("temporal.search_attributes_registered", namespace=namespace, names=sorted(missing))
    after = await _list_custom(client, namespace)
    if after is not None:
        _check_types(wanted, after, namespace)
        still_missing = sorted(set(wanted) - set(after))
        if still_missing:
            raise SearchAttributeError(f"search attributes {still_missing} not registered in {namespace!r}")


async def _list_custom(client: Client, namespace: str) -> dict[str, int] | None:
    """Custom attributes by name, or None where the server cannot list them."""
    try:
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace), retry=True, timeout=_RPC_TIMEOUT
        )
    except RPCError as e:
        if e.status == RPCStatusCode.UNIMPLEMENTED:
            return None
        raise
    return dict(response.custom_attributes)


async def _add(client: Client, namespace: str, attributes: dict[str, IndexedValueType.ValueType]) -> None:
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=attributes),
            retry=True,
            timeout=_RPC_TIMEOUT,
        )
    except RPCError as e:
        if e.status == RPCStatusCode.ALREADY_EXISTS:
            return  # another worker got there first, or the test server's answer to a repeat add
        if e.status == RPCStatusCode.PERMISSION_DENIED:
            raise SearchAttributeError(
                f"not allowed to register search attributes {sorted(attributes)} in {namespace!r}; "
                "ask the cluster operator to add them (temporal operator search-attribute create)"
            ) from e
        raise


def _check_types(wanted: Mapping[str, int], existing: Mapping[str, int], namespace: str) -> None:
    wrong = {
        name: (_type_name(existing[name]), _type_name(kind))
        for name, kind in wanted.items()
        if name in existing and existing[name] != kind
    }
    if wrong:
        detail = ", ".join(f"{name} is {have}, we need {need}" for name, (have, need) in wrong.items())
        raise SearchAttributeError(f"search attributes in {namespace!r} have the wrong type: {detail}")


def _type_name(kind: int) -> str:
    return IndexedValueType.Name(IndexedValueType.ValueType(kind)).removeprefix("INDEXED_VALUE_TYPE_")
