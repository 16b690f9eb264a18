"""Documents a city uploads: recognised by their content, stored by their SHA-256, recorded in the
city's history through the command service (UploadDocument -> DocumentUploaded), so the log's hash
chain covers each document's hash and `verify` can check the stored bytes against it.

Order of an upload: the content is recognised (refused: nothing stored), the city's state is asked
whether it takes documents now (refused: nothing stored), the bytes are stored, then the command is
given. Stored first, because a recorded event whose bytes failed to store would name a document
nobody can read; the other way round, a command refused after storing (the city withdrew in
between, the workflow unavailable) leaves the bytes unreferenced: harmless, content-addressed (an
upload of the same bytes reuses them), and no reader can reach them without an event naming them.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

import structlog
from pydantic import ValidationError

from app import errors
from app.commands import CommandService
from app.media import Unrecognised, recognise
from app.tokens import TokenInfo
from domain import Actor, CommandRejected, InvalidCommand, decide
from domain import commands as cmd
from domain.errors import Refusal
from eventstore import EventStore
from readmodel import DocumentInfo, city_document, city_documents, city_state, every_document
from runtime.documents import DocumentMissing, DocumentStore, DocumentStoreError

_CHUNK = 1024 * 1024
log = structlog.get_logger("citycert.documents")


@dataclass(frozen=True, slots=True)
class Uploaded:
    document_id: str
    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    """A recorded document whose stored bytes are missing or no longer match its hash."""

    city_id: str
    document_id: str
    sha256: str
    location: str
    problem: str  # "missing", "altered" (its bytes hash otherwise) or "unreadable: why"


def _measure(file: IO[bytes]) -> tuple[str, int]:
    file.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := file.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _unavailable(e: DocumentStoreError) -> errors.Unavailable:
    return errors.Unavailable(
        "the document store is unavailable", code="document_store_unavailable", internal=str(e)
    )


class Documents:
    def __init__(self, store: EventStore, blobs: DocumentStore, commands: CommandService, *, max_bytes: int):
        self.store = store
        self.blobs = blobs
        self.commands = commands
        self.max_bytes = max_bytes

    async def upload(self, city_id: str, title: str, file: IO[bytes], actor: Actor) -> Uploaded:
        """Recognise, store and record the document in `file` (seekable) as the city's."""
        sha256, size = await asyncio.to_thread(_measure, file)
        if size > self.max_bytes:
            raise errors.DocumentTooLarge(
                Refusal("a document may be at most {max_bytes} bytes", max_bytes=self.max_bytes)
            )
        try:
            media_type = await asyncio.to_thread(recognise, file)
        except Unrecognised as e:
            raise errors.UnsupportedDocument(Refusal("not accepted: {why}", why=e.refusal)) from None
        try:
            command = cmd.UploadDocument(
                document_id=uuid.uuid4().hex, sha256=sha256, size=size, media_type=media_type, title=title
            )
        except ValidationError as e:
            raise errors.Invalid("; ".join(str(err["msg"]) for err in e.errors())) from None
        await self._takes_documents_now(city_id, command)
        try:
            await asyncio.to_thread(self.blobs.put, sha256, file)
        except DocumentStoreError as e:
            raise _unavailable(e) from e
        await self.commands.give(city_id, command, actor)
        return Uploaded(command.document_id, sha256, size, media_type)

    async def _takes_documents_now(self, city_id: str, command: cmd.UploadDocument) -> None:
        """The domain's answer on the stored state, before anything is stored (the workflow decides
        again when the command is given)."""
        state = await city_state(self.store, city_id)
        if state is None:
            raise errors.UnknownCity(city_id)
        try:
            decide(state, command, now=datetime.now(UTC), policy=self.commands.policy)
        except CommandRejected as e:
            raise errors.Refused(str(e), refusal=e.refusal) from None
        except InvalidCommand as e:
            raise errors.Invalid(str(e), refusal=e.refusal) from None

    async def may_read(self, who: TokenInfo, city_id: str) -> bool:
        """The city itself (its token is bound to it), the committee and operators; a reviewer only
        while assigned to an item of the city's current cycle, or its lead reviewer. UnknownCity
        for no such city."""
        state = await city_state(self.store, city_id)
        if state is None:
            raise errors.UnknownCity(city_id)
        if who.role in ("city", "committee", "operator"):
            return who.role != "city" or who.city_id == city_id
        if who.role == "reviewer" and who.city_id != city_id and state.cycle is not None:
            cycle = state.cycle
            return cycle.lead_reviewer_id == who.actor_id or any(
                item.reviewer_id == who.actor_id for item in cycle.items.values()
            )
        return False

    async def list(self, city_id: str) -> list[DocumentInfo]:
        return await city_documents(self.store, city_id)

    async def find(self, city_id: str, document_id: str) -> DocumentInfo:
        found = await city_document(self.store, city_id, document_id)
        if found is None:
            raise errors.NotFound(
                Refusal(
                    "{city_id!r} has no document {document_id!r}", city_id=city_id, document_id=document_id
                )
            )
        return found

    async def open(self, document: DocumentInfo) -> Iterator[bytes]:
        """The document's bytes in chunks (read in the caller's thread as it iterates), checked
        against its hash as they go: the last chunk is held back until the whole has matched, so
        bytes altered in the store are never served whole (the response breaks off instead)."""
        try:
            return _checked(document, await asyncio.to_thread(self.blobs.open, document.sha256))
        except DocumentMissing:
            raise errors.Unavailable(
                f"the bytes of document {document.document_id!r} are missing from the document store "
                "(`citycert verify` reports it)",
                code="document_missing",
            ) from None
        except DocumentStoreError as e:
            raise _unavailable(e) from e


def _checked(document: DocumentInfo, chunks: Iterator[bytes]) -> Iterator[bytes]:
    digest, size, held = hashlib.sha256(), 0, None
    for chunk in chunks:
        if held is not None:
            yield held
        digest.update(chunk)
        size += len(chunk)
        held = chunk
    if digest.hexdigest() != document.sha256 or size != document.size:
        log.error("document.altered", city_id=document.city_id, document_id=document.document_id)
        raise DocumentStoreError(
            f"the stored bytes of document {document.document_id!r} no longer match its hash: not served"
        )
    if held is not None:
        yield held


async def verify_documents(store: EventStore, blobs: DocumentStore) -> tuple[int, list[DocumentProblem]]:
    """Every recorded document's stored bytes against its hash: how many were checked, and those
    missing or altered."""
    problems = []
    documents = await every_document(store)
    for document in documents:
        try:
            digest = await asyncio.to_thread(blobs.digest, document.sha256)
            problem = None if digest == document.sha256 else "missing" if digest is None else "altered"
        except DocumentStoreError as e:
            problem = f"unreadable: {e}"
        if problem is not None:
            where = blobs.location(document.sha256)
            problems.append(
                DocumentProblem(document.city_id, document.document_id, document.sha256, where, problem)
            )
    return len(documents), problems
