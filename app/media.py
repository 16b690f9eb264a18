"""What a document is, from its content alone: magic bytes and structure, never its name or the
Content-Type a client sent (either can say anything).

Accepted: PDF, PNG, JPEG, office documents (Office Open XML: a ZIP holding `[Content_Types].xml`
and a Word, Excel or PowerPoint part, without macros; OpenDocument: a ZIP whose first entry is
`mimetype`; the legacy OLE2 compound files of Word, Excel and PowerPoint), CSV and plain text
(UTF-8 without NUL or control characters other than tab, CR and LF). Refused, with the reason in
words: executables (ELF, PE/MZ, Mach-O, scripts starting with `#!`) and anything else.

`recognise(file)` reads a seekable file; a ZIP is read through its directory and the `mimetype`
entry only (a few bytes), never decompressed, so no archive can make it expand.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import struct
import zipfile
from typing import IO

from domain.errors import Quoted, Refusal

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
CSV = "text/csv"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
DOC, XLS, PPT = "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"

_EXECUTABLES: tuple[tuple[bytes, Refusal], ...] = (
    (b"\x7fELF", Refusal("an ELF executable")),
    (b"MZ", Refusal("a Windows executable (PE/MZ)")),
    (b"\xfe\xed\xfa\xce", Refusal("a Mach-O executable")),
    (b"\xfe\xed\xfa\xcf", Refusal("a Mach-O executable")),
    (b"\xce\xfa\xed\xfe", Refusal("a Mach-O executable")),
    (b"\xcf\xfa\xed\xfe", Refusal("a Mach-O executable")),
    (b"\xca\xfe\xba\xbe", Refusal("a Mach-O universal binary (or a Java class)")),
    (b"#!", Refusal("a script (it starts with #!)")),
)
_OOXML_PARTS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX))
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE2_STREAMS = (("WordDocument", DOC), ("Workbook", XLS), ("Book", XLS), ("PowerPoint Document", PPT))
ODF_TYPES = tuple(
    f"application/vnd.oasis.opendocument.{kind}"
    for kind in ("text", "spreadsheet", "presentation", "graphics")
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CHUNK = 1024 * 1024
_CSV_SAMPLE = 64 * 1024


# The formats accepted, as a refusal names them (a page says them in the person's language).
ACCEPTED_WORDS = Refusal("PDF, PNG, JPEG, Word, Excel, PowerPoint, OpenDocument, CSV or plain UTF-8 text")


class Unrecognised(ValueError):
    """The content is not a document citycert accepts; the message says what it is or lacks, and
    `refusal` is those words as data (domain/errors.py), for a page in the person's language."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.english())
        self.refusal = refusal


def recognise(file: IO[bytes]) -> str:
    """The media type of the document in `file` (seekable), or Unrecognised saying why not."""
    file.seek(0)
    head = file.read(8)
    if not head:
        raise Unrecognised(Refusal("the file is empty"))
    for magic, what in _EXECUTABLES:
        if head.startswith(magic):
            raise Unrecognised(Refusal("the file is {what}; executables are never accepted", what=what))
    if head.startswith(b"%PDF-"):
        return PDF
    if head == b"\x89PNG\r\n\x1a\n":
        file.seek(12)
        if file.read(4) != b"IHDR":
            raise Unrecognised(Refusal("the file starts as a PNG image but has no image header (IHDR)"))
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _zip_document(file)
    if head == _OLE2:
        return _ole2_document(file)
    return _text(file)


def _zip_document(file: IO[bytes]) -> str:
    try:
        archive = zipfile.ZipFile(file)
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        # zipfile's words, in English: a page says what they mean (written apart from the call they
        # go into, where the catalogs' extraction finds no template).
        gist = Refusal("it is damaged or incomplete")
        raise Unrecognised(
            Refusal(
                "the file starts as a ZIP archive but cannot be read as one ({why})", why=Quoted(str(e), gist)
            )
        ) from None
    names = {entry.filename for entry in entries}
    if entries and entries[0].filename == "mimetype":
        first = entries[0]
        if first.compress_type != zipfile.ZIP_STORED or first.file_size > 100:
            raise Unrecognised(
                Refusal("an OpenDocument's mimetype entry must be short and stored uncompressed")
            )
        declared = archive.read(first).strip().decode("ascii", errors="replace")
        if declared not in ODF_TYPES:
            raise Unrecognised(
                Refusal(
                    "a ZIP whose mimetype entry says {declared!r}, not an OpenDocument text, spreadsheet, "
                    "presentation or drawing",
                    declared=declared,
                )
            )
        return declared
    if "[Content_Types].xml" in names:
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            raise Unrecognised(
                Refusal("a macro-enabled office document (it holds a VBA project); save it without macros")
            )
        for part, media_type in _OOXML_PARTS:
            if part in names:
                return media_type
        raise Unrecognised(Refusal("an Office Open XML package without a Word, Excel or PowerPoint part"))
    raise Unrecognised(
        Refusal("a ZIP archive that is not an office document; accepted: {accepted}", accepted=ACCEPTED_WORDS)
    )


def _ole2_document(file: IO[bytes]) -> str:
    """Word, Excel or PowerPoint by the streams named in the compound file's directory entries (128
    bytes each, in sectors after the 512-byte header: UTF-16 name, its length, type 2 a stream)."""
    file.seek(30)
    (shift,) = struct.unpack("<H", file.read(2))
    if shift not in (9, 12):
        raise Unrecognised(Refusal("an OLE2 compound file with a sector size it cannot have"))
    names: set[str] = set()
    file.seek(512)
    while block := file.read(_CHUNK):
        for offset in range(0, len(block) - 127, 128):
            entry = block[offset : offset + 128]
            (length,) = struct.unpack_from("<H", entry, 64)
            if entry[66] == 2 and 2 <= length <= 64 and length % 2 == 0:
                names.add(entry[: length - 2].decode("utf-16-le", errors="replace"))
    if "Macros" in names or "_VBA_PROJECT" in names or "VBA" in names:
        raise Unrecognised(
            Refusal("a macro-enabled office document (it holds a VBA project); save it without macros")
        )
    for stream, media_type in _OLE2_STREAMS:
        if stream in names:
            return media_type
    raise Unrecognised(Refusal("an OLE2 compound file that is not a Word, Excel or PowerPoint document"))


def _text(file: IO[bytes]) -> str:
    """Plain text if every byte is UTF-8 and no character is a control other than tab, CR, LF; CSV
    if its first lines are rows of one number (two or more) of comma-, semicolon- or tab-separated
    fields."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    sample: list[str] = []
    kept = 0
    while True:
        chunk = file.read(_CHUNK)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError:
            raise Unrecognised(
                Refusal(
                    "the file is neither text in UTF-8 nor a known format; accepted: {accepted}",
                    accepted=ACCEPTED_WORDS,
                )
            ) from None
        if control := _CONTROL.search(text):
            character = f"U+{ord(control.group()):04X}"
            raise Unrecognised(
                Refusal(
                    "the file is not plain text: it holds the control character {character}; "
                    "accepted: {accepted}",
                    character=character,
                    accepted=ACCEPTED_WORDS,
                )
            )
        if kept < _CSV_SAMPLE:
            sample.append(text)
            kept += len(text)
        if not chunk:
            break
    return CSV if _looks_like_csv("".join(sample)[:_CSV_SAMPLE]) else TEXT


def _looks_like_csv(text: str) -> bool:
    lines = text.removeprefix("\ufeff").splitlines()
    if len(text) >= _CSV_SAMPLE:
        lines = lines[:-1]  # the sample may end inside a line
    lines = [line for line in lines if line.strip()][:200]
    if len(lines) < 2:
        return False
    for delimiter in (",", ";", "\t"):
        widths = {len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)}
        if len(widths) == 1 and widths.pop() >= 2:
            return True
    return False


MEDIA_TYPES: tuple[str, ...] = (PDF, PNG, JPEG, DOCX, XLSX, PPTX, *ODF_TYPES, DOC, XLS, PPT, CSV, TEXT)
"""Every media type `recognise` can answer."""
