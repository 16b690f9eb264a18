"""Connecting to Temporal the one way citycert does it, and registering our search attributes.

Every client uses the pydantic data converter, so workflow, activity and update models travel as
JSON and come back as the same pydantic types.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode

from runtime.embedded_temporal import start_dev_server
from workflows import search_attributes

if TYPE_CHECKING:
    from runtime.settings import Settings

log = structlog.get_logger(__name__)

_RPC_TIMEOUT = timedelta(seconds=10)


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
    return await Client.connect(
        target,
        namespace=settings.temporal_namespace,
        tls=settings.temporal_tls,
        data_converter=pydantic_data_converter,
        **kwargs,
    )


@asynccontextmanager
async def temporal_connection(
    settings: Settings, *, register_search_attributes: bool = True
) -> AsyncIterator[Client]:
    """A client for these settings, starting (or reusing) the embedded dev server when no address is set.

    Our search attributes are registered on the way in, so workflows can upsert them at once.
    Leaving the block stops the dev server if this call started it.
    """
    async with AsyncExitStack() as stack:
        address = settings.temporal_address
        if address is None:
            server = await start_dev_server(settings)
            stack.push_async_callback(server.aclose)
            address = server.address
        client = await connect(settings, address=address)
        if register_search_attributes:
            await ensure_search_attributes(client, settings.temporal_namespace)
        yield client


async def ensure_search_attributes(
    client: Client,
    namespace: str,
    keys: Iterable[SearchAttributeKey[Any]] = search_attributes.ALL,
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
