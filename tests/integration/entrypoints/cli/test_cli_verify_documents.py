"""`citycert verify` and the documents: every document a DocumentUploaded event names is read back
from the document store and hashed; one whose bytes were altered or that is gone is reported (with
where it should be) and verify exits 1. The store is the test's real PostgreSQL, the documents the
CLI's own folder under its data dir."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from domain import events as ev
from eventstore import Actor, EventStore, NewEvent
from readmodel import city_stream
from runtime.documents import DocumentFolder
from tests.integration.entrypoints.cli.test_cli_cities import Cli, cli, seed_lakeside

__all__ = ["cli"]  # the fixture, used by name


async def uploaded(store: EventStore, folder: DocumentFolder, title: str, content: bytes) -> str:
    """A document stored in the folder and recorded in lakeside's stream, as an upload does."""
    digest = hashlib.sha256(content).hexdigest()
    folder.put(digest, io.BytesIO(content))
    event = ev.DocumentUploaded(
        document_id=uuid.uuid4().hex, sha256=digest, size=len(content), media_type="text/plain", title=title
    )
    stream = city_stream("lakeside")
    version = await store.stream_version(stream)
    recorded = NewEvent.from_domain(
        event, event_id=uuid.uuid4(), occurred_at=datetime.now(UTC), actor=Actor("city", "staff-lakeside")
    )
    await store.append(stream, version, [recorded])
    return event.document_id


async def test_verify_reports_a_document_altered_and_one_deleted_and_exits_1(
    cli: Cli, store: EventStore, tmp_path: Path
) -> None:
    await seed_lakeside(store, first_steps=1)
    folder = DocumentFolder(tmp_path / "documents")
    policy = await uploaded(store, folder, "Open data policy", b"We publish what we hold.\n")
    inventory = await uploaded(store, folder, "Data inventory", b"dataset,owner\nroads,public works\n")
    await uploaded(store, folder, "Roadmap", b"Next year: an open budget.\n")
    clean = json.loads((await cli("verify", "--skip-workflows", "--json")).stdout)

    altered = folder.path(hashlib.sha256(b"We publish what we hold.\n").hexdigest())
    altered.write_bytes(b"We publish what we like.\n")
    deleted = folder.path(hashlib.sha256(b"dataset,owner\nroads,public works\n").hexdigest())
    deleted.unlink()
    result = await cli("verify", "--skip-workflows", "--json")
    table = await cli("verify", "--skip-workflows")

    assert clean["ok"] and clean["documents"] == {"ok": True, "checked": 3, "problems": []}
    assert result.exit_code == 1
    found = json.loads(result.stdout)
    assert not found["ok"] and found["store"]["ok"]  # the log itself is intact
    assert found["documents"]["checked"] == 3
    assert sorted(
        (p["document_id"], p["problem"], p["location"]) for p in found["documents"]["problems"]
    ) == sorted([(policy, "altered", str(altered)), (inventory, "missing", str(deleted))])
    assert table.exit_code == 1 and "2 documents whose stored bytes are missing or altered" in table.stdout
    assert table.stdout.rstrip().endswith("PROBLEMS FOUND")
