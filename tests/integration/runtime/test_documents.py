"""The document stores, one contract for both: the folder under the data dir, and an S3-compatible
bucket (the real SeaweedFS of the `s3` fixture). Bytes go in under their SHA-256, come back the
same, the same bytes again change nothing, a missing hash says so, and what is stored now can be
hashed to see whether it is still what was stored."""

from __future__ import annotations

import hashlib
import io
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from runtime.documents import DocumentBucket, DocumentFolder, DocumentMissing, DocumentStore, document_store
from runtime.settings import Settings
from tests.seaweedfs import ACCESS_KEY, SECRET_KEY, S3Server, s3

__all__ = ["s3"]  # the fixture, used by name

POLICY = b"%PDF-1.4\n% the open data policy\n%%EOF\n" * 1000
HASH = hashlib.sha256(POLICY).hexdigest()


@pytest.fixture(params=["folder", "bucket"])
def documents(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    if request.param == "folder":
        yield document_store(Settings(data_dir=tmp_path))
        return
    server: S3Server = request.getfixturevalue("s3")
    bucket = server.new_bucket(object_lock=False)
    yield document_store(
        Settings(
            data_dir=tmp_path,
            documents_s3_bucket=bucket,
            documents_s3_endpoint_url=server.endpoint_url,
            documents_s3_region="us-east-1",
            documents_s3_access_key_id=ACCESS_KEY,
            documents_s3_secret_access_key=SecretStr(SECRET_KEY),
        )
    )


def test_a_document_comes_back_as_it_was_stored_and_storing_it_again_changes_nothing(
    documents: DocumentStore,
) -> None:
    documents.put(HASH, io.BytesIO(POLICY))
    documents.put(HASH, io.BytesIO(POLICY))  # an upload of the same bytes, or a retry

    assert b"".join(documents.open(HASH)) == POLICY
    assert documents.digest(HASH) == HASH
    assert HASH in documents.location(HASH) and "sha256/" in documents.location(HASH)


def test_a_hash_nothing_was_stored_under_is_missing(documents: DocumentStore) -> None:
    absent = hashlib.sha256(b"never uploaded").hexdigest()

    with pytest.raises(DocumentMissing):
        documents.open(absent)
    assert documents.digest(absent) is None


def test_the_folder_keeps_each_document_under_its_hash_readable_by_its_owner_only(tmp_path: Path) -> None:
    folder = document_store(Settings(data_dir=tmp_path))
    assert isinstance(folder, DocumentFolder)

    folder.put(HASH, io.BytesIO(POLICY))

    path = tmp_path / "documents" / "sha256" / HASH[:2] / HASH[2:4] / HASH
    assert path.read_bytes() == POLICY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [HASH]  # no temporary file left beside it


def test_bytes_altered_where_they_are_kept_no_longer_hash_to_their_name(s3: S3Server, tmp_path: Path) -> None:
    folder = DocumentFolder(tmp_path / "documents")
    bucket = DocumentBucket(s3.client(), s3.new_bucket(object_lock=False), prefix="docs/")
    for store in (folder, bucket):
        store.put(HASH, io.BytesIO(POLICY))

    folder.path(HASH).write_bytes(POLICY + b"a line added afterwards\n")
    s3.client().put_object(Bucket=bucket.bucket, Key=bucket.key(HASH), Body=b"something else")

    assert folder.digest(HASH) not in (None, HASH)
    assert bucket.digest(HASH) == hashlib.sha256(b"something else").hexdigest()
    assert bucket.key(HASH) == f"docs/sha256/{HASH[:2]}/{HASH[2:4]}/{HASH}"
