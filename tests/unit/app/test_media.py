"""What a document is, from its content: given small real samples built here (a minimal PDF, a PNG
header, office files made with zipfile, an OLE2 directory, executables' headers, text), the media
type recognised, or the refusal in words. The name and a claimed Content-Type play no part."""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import pytest

from app.media import CSV, DOC, DOCX, JPEG, PDF, PNG, TEXT, XLS, XLSX, Unrecognised, recognise


def zipped(*entries: tuple[str, bytes], stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for n, (name, data) in enumerate(entries):
            kind = zipfile.ZIP_STORED if stored_first and n == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    return out.getvalue()


def png() -> bytes:
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(header)) + b"IHDR" + header
    return b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(b"IHDR" + header))


def ole2(*streams: str) -> bytes:
    """A compound file's header and one directory sector naming `streams` (type 2) under a root."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[30:32] = struct.pack("<H", 9)  # 512-byte sectors
    sector = bytearray()
    for name, kind in [("Root Entry", 5), *((s, 2) for s in streams)]:
        entry = bytearray(128)
        encoded = (name + "\0").encode("utf-16-le")
        entry[: len(encoded)] = encoded
        entry[64:66] = struct.pack("<H", len(encoded))
        entry[66] = kind
        sector += entry
    return bytes(header) + bytes(sector.ljust(512, b"\0"))


OOXML_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)

ACCEPTED = {
    "a minimal PDF": (b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", PDF),
    "a PNG header": (png(), PNG),
    "a JPEG's start": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", JPEG),
    "a Word document (OOXML)": (
        zipped(("[Content_Types].xml", OOXML_TYPES), ("word/document.xml", b"<w:document/>")),
        DOCX,
    ),
    "an Excel workbook (OOXML)": (
        zipped(("[Content_Types].xml", OOXML_TYPES), ("xl/workbook.xml", b"<workbook/>")),
        XLSX,
    ),
    "an OpenDocument text": (
        zipped(
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<office:document-content/>"),
            stored_first=True,
        ),
        "application/vnd.oasis.opendocument.text",
    ),
    "a legacy Word document (OLE2)": (ole2("WordDocument", "\x05SummaryInformation"), DOC),
    "a legacy Excel workbook (OLE2)": (ole2("Workbook"), XLS),
    "a CSV table": (b'city,population\nLakeside,182000\nRiverton,"95,000"\n', CSV),
    "a semicolon CSV with a BOM": ("\ufeffa;b\r\n1;2\r\n".encode(), CSV),
    "plain UTF-8 text": ("Datos abiertos: política de publicación\n\tcon tabulación\r\n".encode(), TEXT),
    "one line of text with commas": (b"hello, world", TEXT),
}

REFUSED = {
    "an ELF executable": (b"\x7fELF\x02\x01\x01\x00" + bytes(56), "ELF executable"),
    "a Windows executable": (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56), "Windows executable"),
    "a Mach-O executable": (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(24), "Mach-O"),
    "a shell script": (b"#!/bin/sh\nrm -rf /\n", "script"),
    "a script that says it is a PDF by name": (b"#!/usr/bin/env python3\nprint('report.pdf')\n", "script"),
    "a macro-enabled Word document": (
        zipped(
            ("[Content_Types].xml", OOXML_TYPES),
            ("word/document.xml", b"<w:document/>"),
            ("word/vbaProject.bin", b"\0"),
        ),
        "macro-enabled",
    ),
    "a plain ZIP archive": (zipped(("notes.txt", b"hello")), "not an office document"),
    "a ZIP claiming another mimetype": (
        zipped(("mimetype", b"application/x-shockwave-flash"), stored_first=True),
        "not an OpenDocument",
    ),
    "an OLE2 file of another kind": (ole2("Contents"), "not a Word, Excel or PowerPoint"),
    "a PNG signature without an image header": (b"\x89PNG\r\n\x1a\n" + bytes(16), "no image header"),
    "text with a NUL": (b"hello\x00world", "U+0000"),
    "text with an escape sequence": (b"hello \x1b[31mred\x1b[0m", "U+001B"),
    "Latin-1, not UTF-8": ("café".encode("latin-1"), "neither text in UTF-8"),
    "a GIF, not among the accepted images": (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "neither text in UTF-8"),
    "an empty file": (b"", "empty"),
}


@pytest.mark.parametrize("sample", ACCEPTED, ids=str)
def test_an_accepted_document_is_recognised_by_its_content(sample: str) -> None:
    content, media_type = ACCEPTED[sample]

    assert recognise(io.BytesIO(content)) == media_type


@pytest.mark.parametrize("sample", REFUSED, ids=str)
def test_an_executable_or_unknown_content_is_refused_saying_why(sample: str) -> None:
    content, reason = REFUSED[sample]

    with pytest.raises(Unrecognised, match=re.escape(reason)):
        recognise(io.BytesIO(content))


def test_text_is_checked_to_its_last_byte_not_only_its_start() -> None:
    content = b"a,b\n1,2\n" * 300_000 + b"\x07"  # a bell past the first megabyte

    with pytest.raises(Unrecognised, match="U\\+0007"):
        recognise(io.BytesIO(content))


def test_a_utf8_character_split_across_read_chunks_is_still_text() -> None:
    content = b"x" * (1024 * 1024 - 1) + "é".encode()  # é's two bytes straddle the first megabyte

    assert recognise(io.BytesIO(content)) == TEXT
