"""Where uploaded documents' bytes are kept: by their SHA-256, in a folder (the default, under the
data dir) or in an S3-compatible bucket (production). Both are content-addressed and idempotent:
the same bytes always go to the same name, and putting them again changes nothing a reader sees.

The folder keeps `sha256/ab/cd/<hash>` (the first two pairs of hex digits as subfolders), each file
mode 0600, written to a temporary file beside it and renamed into place, so a reader never sees half
a document and a crash leaves at most a stray temporary file. The bucket keeps
`<prefix>sha256/ab/cd/<hash>`. Synchronous, like the anchor bucket: callers run these in a thread.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from runtime.settings import Settings

CHUNK = 1024 * 1024


class DocumentMissing(LookupError):
    """No stored bytes under that hash."""


class DocumentStoreError(OSError):
    """The store did not do what was asked (unreachable, refused, disk full)."""


class DocumentStore(Protocol):
    def location(self, sha256: str) -> str:
        """Where the bytes of `sha256` are kept (a path, an s3:// URL), for messages."""
        ...

    def put(self, sha256: str, source: IO[bytes]) -> None:
        """Store `source` (read from its start) as the document whose hash is `sha256`."""
        ...

    def open(self, sha256: str) -> Iterator[bytes]:
        """The stored bytes in chunks; DocumentMissing (raised here, not while iterating) if none."""
        ...

    def digest(self, sha256: str) -> str | None:
        """The SHA-256 of what is stored under `sha256` now (None when nothing is)."""
        ...


def content_path(sha256: str) -> str:
    """The relative name of a document's bytes: `sha256/ab/cd/<hash>`."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _hash_chunks(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


class DocumentFolder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / content_path(sha256)

    def location(self, sha256: str) -> str:
        return str(self.path(sha256))

    def put(self, sha256: str, source: IO[bytes]) -> None:
        target = self.path(sha256)
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")  # mode 0600
            try:
                with os.fdopen(descriptor, "wb") as out:
                    source.seek(0)
                    shutil.copyfileobj(source, out, CHUNK)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise DocumentStoreError(f"could not write {target}: {e.strerror or e}") from e

    def open(self, sha256: str) -> Iterator[bytes]:
        try:
            file = self.path(sha256).open("rb")
        except FileNotFoundError:
            raise DocumentMissing(self.location(sha256)) from None
        except OSError as e:
            raise DocumentStoreError(f"could not read {self.location(sha256)}: {e.strerror or e}") from e
        return _file_chunks(file)

    def digest(self, sha256: str) -> str | None:
        try:
            return _hash_chunks(self.open(sha256))
        except DocumentMissing:
            return None


def _file_chunks(file: IO[bytes]) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK):
            yield chunk


class DocumentBucket:
    def __init__(self, client: Any, bucket: str, *, prefix: str = "documents/") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentBucket:
        assert settings.documents_s3_bucket is not None
        secret = settings.documents_s3_secret_access_key
        endpoint = settings.documents_s3_endpoint_url
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=settings.documents_s3_region,
            aws_access_key_id=settings.documents_s3_access_key_id,
            aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
            config=Config(
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                s3={"addressing_style": "path" if endpoint else "auto"},
                # No flexible checksums unless the service demands them: S3-compatible servers
                # differ in which they take, and the content's own SHA-256 names the object anyway.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        return cls(client, settings.documents_s3_bucket, prefix=settings.documents_s3_prefix)

    def key(self, sha256: str) -> str:
        return f"{self.prefix}{content_path(sha256)}"

    def location(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self.key(sha256)}"

    def put(self, sha256: str, source: IO[bytes]) -> None:
        source.seek(0)
        try:
            self.client.upload_fileobj(source, self.bucket, self.key(sha256))
        except (ClientError, BotoCoreError) as e:
            raise DocumentStoreError(f"could not write {self.location(sha256)}: {_detail(e)}") from e

    def open(self, sha256: str) -> Iterator[bytes]:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as e:
            if _code(e) in ("NoSuchKey", "404", "NotFound"):
                raise DocumentMissing(self.location(sha256)) from None
            raise DocumentStoreError(f"could not read {self.location(sha256)}: {_detail(e)}") from e
        except BotoCoreError as e:
            raise DocumentStoreError(f"could not read {self.location(sha256)}: {e}") from e
        return _body_chunks(answer["Body"], self.location(sha256))

    def digest(self, sha256: str) -> str | None:
        try:
            return _hash_chunks(self.open(sha256))
        except DocumentMissing:
            return None


def _body_chunks(body: Any, where: str) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK)
    except (ClientError, BotoCoreError) as e:
        raise DocumentStoreError(f"could not read {where}: {e}") from e
    finally:
        body.close()


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", "?"))


def _detail(e: Exception) -> str:
    if isinstance(e, ClientError):
        return f"{_code(e)}: {e.response.get('Error', {}).get('Message', '')}"
    return str(e)


def document_store(settings: Settings) -> DocumentStore:
    """The bucket when CITYCERT_DOCUMENTS_S3_BUCKET is set, else the folder (data_dir/documents by
    default); nothing is created until the first document is stored."""
    if settings.documents_s3_bucket is not None:
        return DocumentBucket.from_settings(settings)
    return DocumentFolder(settings.documents_dir or settings.data_dir / "documents")
