"""A city's documents: uploaded by its staff or an operator (multipart), read by the city, its
assigned reviewers, the committee and operators.

An upload's body is read only after its token, role and city are checked (the route declares no
body parameter, so FastAPI reads nothing before the dependencies; the handler parses the stream
itself). Its size is capped on the raw stream as it arrives, twice: the BodyLimit middleware's cap
for this path (the setting plus room for the multipart framing) and this module's count while the
parser consumes it, so starlette's parser never spools more than that; then the file part itself
against CITYCERT_DOCUMENTS_MAX_BYTES. A client that goes away mid-body leaves nothing: the parser
fails, its spooled file is deleted, nothing was stored or recorded.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect

from app.assignment import check_may_see_evidence
from app.documents import Documents
from app.media import MEDIA_TYPES
from app.tokens import TokenInfo
from domain import commands as cmd
from domain.ids import DOCUMENT_ID_PATTERN, LINE_PATTERN, LINE_RULE, NAME_MAX
from entrypoints.http.auth import CityIdPath, CityReader, giving
from entrypoints.http.commands import actor_of
from entrypoints.http.errors import ApiError, forbidden, invalid
from entrypoints.http.models import DocumentOut
from entrypoints.http.openapi import answers
from entrypoints.http.services import Svc
from readmodel import DocumentInfo

router = APIRouter(prefix="/v1", tags=["documents"])

MULTIPART_ROOM = 64 * 1024  # the raw body's allowance beyond the file: boundaries, headers, the title
UPLOAD_PATH = re.compile(r"/v1/cities/[^/]+/documents")  # the BodyLimit middleware's larger cap
_TITLE_PART_MAX = 4 * NAME_MAX  # bytes of the title field (UTF-8, up to 4 bytes a character)
_ONE_LINE = re.compile(LINE_PATTERN)
NOT_MULTIPART = "send the document as multipart/form-data with the fields file and title"

DocumentIdPath = Annotated[str, Path(description="The document's id, as its upload answered")]

_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "title"],
                "additionalProperties": False,
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "The document: PDF, PNG, JPEG, Word, Excel, PowerPoint (OOXML or "
                        "legacy), OpenDocument, CSV or UTF-8 text, recognised by its content; at most "
                        "CITYCERT_DOCUMENTS_MAX_BYTES (25 MB by default)",
                    },
                    "title": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": NAME_MAX,
                        "pattern": LINE_PATTERN,
                        "description": "A one-line title",
                    },
                },
            }
        }
    },
}
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_DOCUMENT_BYTES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document's bytes, as an attachment",
        "content": dict.fromkeys(MEDIA_TYPES, _BINARY),
    },
    404: {
        "description": "No such city (`unknown_city`) or no such document of the city (`not_found`)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}
_NO_DOCUMENT: dict[int | str, dict[str, Any]] = {404: _DOCUMENT_BYTES[404]}


@answers(409, 413, 415, 422, 503)
def uploads(svc: Svc) -> Documents:
    """The documents service, for an upload: refused now, too large, not a document citycert
    accepts, malformed, or not stored or recorded."""
    return svc.documents


@answers(503)
def documents(svc: Svc) -> Documents:
    return svc.documents


async def _readable(who: TokenInfo, city_id: str, docs: Documents) -> None:
    if not await docs.may_read(who, city_id):
        raise forbidden(
            f"a {who.role} token may not read {city_id!r}'s documents: they are for the city, the "
            "reviewers assigned to it, the committee and operators"
        )
    await check_may_see_evidence(docs.store, city_id, who.role, who.actor_id)


async def _capped(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The request's body as it streams in, refused (413) once it passes `limit` bytes."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise ApiError(413, "too_large", f"a document may be at most {limit - MULTIPART_ROOM} bytes")
        yield chunk


async def _parse(request: Request, max_bytes: int) -> tuple[UploadFile, str]:
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiError(415, "unsupported_media_type", NOT_MULTIPART)
    parser = MultiPartParser(
        request.headers,
        _capped(request, max_bytes + MULTIPART_ROOM),
        max_files=1,
        max_fields=1,
        max_part_size=_TITLE_PART_MAX,
    )
    try:
        form = await parser.parse()
    except MultiPartException as e:
        raise _malformed(e.message) from None
    file, title = form.get("file"), form.get("title")
    problems = []
    if not isinstance(file, UploadFile):
        problems.append(
            {"loc": ["body", "file"], "msg": "give the document as the file field", "type": "missing"}
        )
    if not isinstance(title, str):
        problems.append({"loc": ["body", "title"], "msg": "give a title", "type": "missing"})
    elif not _ONE_LINE.fullmatch(title):
        # Checked as sent, as the schema documents it: the title's own rules (Name) would first
        # strip a trailing line break or tab, and so accept what the schema refuses.
        problems.append({"loc": ["body", "title"], "msg": f"a title {LINE_RULE}", "type": "value_error"})
    if problems:
        await form.close()
        raise _Invalid(problems)
    assert isinstance(file, UploadFile) and isinstance(title, str)
    if file.size is not None and file.size > max_bytes:
        await form.close()
        raise ApiError(413, "too_large", f"a document may be at most {max_bytes} bytes")
    return file, title


class _Invalid(Exception):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems


def _malformed(message: str) -> _Invalid:
    return _Invalid([{"loc": ["body"], "msg": f"{NOT_MULTIPART}: {message}", "type": "multipart"}])


@router.post(
    "/cities/{city_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    summary="Upload a document",
)
async def upload(
    request: Request,
    city_id: CityIdPath,
    docs: Annotated[Documents, Depends(uploads)],
    who: Annotated[TokenInfo, Depends(giving(cmd.UploadDocument))],
) -> Any:
    """Store a document by its SHA-256 and record DocumentUploaded in the city's history (while the
    city is registered and has not withdrawn). Recognised by its content, not its name or
    Content-Type: executables and unknown formats are refused (415, saying why), a file larger
    than CITYCERT_DOCUMENTS_MAX_BYTES too (413, counted as it streams in)."""
    try:
        file, title = await _parse(request, docs.max_bytes)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is there to read it; nothing was stored
    except _Invalid as e:
        return invalid(e.problems)
    try:
        stored = await docs.upload(city_id, title, file.file, actor_of(who))
    finally:
        await file.close()
    return DocumentOut(
        document_id=stored.document_id, sha256=stored.sha256, size=stored.size, media_type=stored.media_type
    )


@router.get("/cities/{city_id}/documents", response_model=list[DocumentInfo], responses=_NO_DOCUMENT)
async def list_documents(
    city_id: CityIdPath, who: CityReader, docs: Annotated[Documents, Depends(documents)]
) -> list[DocumentInfo]:
    """The city's documents (metadata), in the order they were uploaded: for the city, the reviewers
    assigned to its current cycle, the committee and operators."""
    await _readable(who, city_id, docs)
    return await docs.list(city_id)


@router.get(
    "/cities/{city_id}/documents/{document_id}",
    response_class=Response,
    responses=_DOCUMENT_BYTES,
)
async def read_document(
    city_id: CityIdPath,
    document_id: DocumentIdPath,
    who: CityReader,
    docs: Annotated[Documents, Depends(documents)],
) -> Response:
    """The document's bytes with its media type, as an attachment (never rendered by a browser:
    `X-Content-Type-Options: nosniff`), to the same people as the list."""
    await _readable(who, city_id, docs)
    if not re.fullmatch(DOCUMENT_ID_PATTERN, document_id):
        raise ApiError(404, "not_found", f"{city_id!r} has no document {document_id!r}")
    found = await docs.find(city_id, document_id)
    chunks = await docs.open(found)
    return StreamingResponse(
        chunks,
        media_type=found.media_type,
        headers={
            "Content-Disposition": _attachment(found.title, found.media_type),
            "Content-Length": str(found.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "text/csv": ".csv",
    "text/plain": ".txt",
    "application/msword": ".doc",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/vnd.oasis.opendocument.graphics": ".odg",
}


def _attachment(title: str, media_type: str) -> str:
    """`attachment` with the title as the file name: ASCII for old clients, UTF-8 (RFC 6266) for
    the rest; the extension is the recognised type's, whatever the uploader named the file."""
    name = title + _EXTENSIONS.get(media_type, "")
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
