"""Connecting to a Temporal that asks for TLS and a client certificate (mTLS), with our settings.

No Temporal binary here serves TLS itself, so a TLS front (Python's ssl, ALPN h2, client
certificates required) stands before the real dev server, as a load balancer or a cluster's own
frontend would. The certificates are made for the test: a CA, the server's, and a client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.testing import WorkflowEnvironment

from runtime.process import StartupError
from runtime.settings import Settings
from runtime.temporal import open_temporal
from tests.temporal_env import dev_server_environment

SERVER_NAME = "temporal.citycert.test"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[str, ec.EllipticCurvePrivateKey] | None
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    issuer_name, signing_key = (subject, key) if issuer is None else issuer
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _write(folder: Path, name: str, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    (folder / f"{name}.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


@pytest.fixture
def certificates(tmp_path: Path) -> Path:
    """ca.pem, server.pem/.key (for SERVER_NAME) and client.pem/.key, signed by the CA."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("citycert test CA", ca_key, None)
    _write(tmp_path, "ca", ca, ca_key)
    for name, subject in (("server", SERVER_NAME), ("client", "citycert-worker")):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(tmp_path, name, _certificate(subject, key, ("citycert test CA", ca_key)), key)
    return tmp_path


@contextlib.asynccontextmanager
async def tls_front(backend_port: int, folder: Path) -> AsyncIterator[int]:
    """A TLS listener on 127.0.0.1 that requires a client certificate from our CA and passes the
    decrypted bytes to the dev server; yields its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    context.load_verify_locations(folder / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])  # gRPC speaks HTTP/2

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        writer.close()

    async def serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", backend_port)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    async with dev_server_environment() as env:
        yield env


def _settings(folder: Path, port: int, **tls: object) -> Settings:
    return Settings(
        data_dir=folder / "data",
        temporal_address=f"127.0.0.1:{port}",
        temporal_namespace="default",
        temporal_tls_server_name=SERVER_NAME,
        **tls,  # type: ignore[arg-type]
    )


async def test_a_client_with_our_certificate_reaches_a_temporal_that_requires_one(
    dev_env: WorkflowEnvironment, certificates: Path
) -> None:
    backend = int(dev_env.client.service_client.config.target_host.rsplit(":", 1)[1])
    async with tls_front(backend, certificates) as port:
        settings = _settings(
            certificates,
            port,
            temporal_tls_ca=certificates / "ca.pem",
            temporal_tls_cert=certificates / "client.pem",
            temporal_tls_key=certificates / "client.key",
        )
        async with open_temporal(settings, start_dev_server=False) as (client, info):
            assert info.address == f"127.0.0.1:{port}"
            info_reply = await client.workflow_service.get_system_info(GetSystemInfoRequest())
            assert info_reply.server_version  # the dev server answered through the TLS front


async def test_without_a_client_certificate_the_connection_is_refused_naming_the_tls_settings(
    dev_env: WorkflowEnvironment, certificates: Path
) -> None:
    backend = int(dev_env.client.service_client.config.target_host.rsplit(":", 1)[1])
    async with tls_front(backend, certificates) as port:
        settings = _settings(certificates, port, temporal_tls_ca=certificates / "ca.pem")
        with pytest.raises(StartupError, match="CITYCERT_TEMPORAL_TLS"):
            async with open_temporal(settings, start_dev_server=False):
                pass


def test_a_client_certificate_without_its_key_is_a_bad_setting(certificates: Path) -> None:
    with pytest.raises(ValueError, match="CITYCERT_TEMPORAL_TLS_CERT and CITYCERT_TEMPORAL_TLS_KEY go"):
        Settings(temporal_tls_cert=certificates / "client.pem")
    with pytest.raises(
        ValueError, match=re.escape("CITYCERT_TEMPORAL_TLS_CA='/nowhere/ca.pem': no such file")
    ):
        Settings(temporal_tls_ca=Path("/nowhere/ca.pem"))
