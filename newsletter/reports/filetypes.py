"""What a report file really is, read from its content (never its name or the
browser's Content-Type): a PDF, a Word document (DOCX) or an OpenDocument text (ODT).

DOCX and ODT are ZIP containers: only their directories and one small member are
read, never the whole archive, so a ZIP bomb costs nothing. Macro-enabled Word files
are refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from flask_babel import lazy_gettext as _l

from newsletter.validation import InvalidInput


@dataclass(frozen=True)
class FileKind:
    key: str  # pdf | docx | odt
    label: str
    mimetype: str
    extension: str


PDF = FileKind("pdf", "PDF", "application/pdf", "pdf")
DOCX = FileKind(
    "docx",
    "Word document (DOCX)",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docx",
)
ODT = FileKind("odt", "OpenDocument text (ODT)", "application/vnd.oasis.opendocument.text", "odt")
KINDS = {kind.key: kind for kind in (PDF, DOCX, ODT)}
ACCEPTED = "a PDF, a Word document (DOCX) or an OpenDocument text (ODT)"

_PDF_TAIL = 2048  # %%EOF must appear this close to the end
_SMALL_MEMBER = 1024 * 1024  # the manifest members we read are small
_DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"

# What some other common files start with, to say what was sent instead.
_OTHER_SIGNATURES = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (DOC/XLS): save it as DOCX or PDF"),
    (b"{\\rtf", "an RTF file: save it as DOCX or PDF"),
    (b"<", "an HTML or XML file"),
)


def detect(handle: BinaryIO, size: int) -> FileKind:
    """The kind of the file in ``handle`` (``size`` bytes); InvalidInput if it is none
    of the accepted ones, saying what it seems to be."""
    handle.seek(0)
    head = handle.read(8)
    if head.startswith(b"%PDF-"):
        return _pdf(handle, size)
    if head.startswith(b"PK\x03\x04"):
        return _office(handle)
    raise InvalidInput(f"This file is {_guess(head)}, not {ACCEPTED}.", "file")


def _guess(head: bytes) -> str:
    if not head:
        return "empty"
    for signature, what in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return what
    return "of a kind we do not recognise"


def _pdf(handle: BinaryIO, size: int) -> FileKind:
    handle.seek(max(0, size - _PDF_TAIL))
    if b"%%EOF" not in handle.read(_PDF_TAIL):
        raise InvalidInput(
            "This file starts like a PDF but has no end: it seems cut short. "
            "Export or download it again.",
            "file",
        )
    return PDF


def _office(handle: BinaryIO) -> FileKind:
    handle.seek(0)
    try:
        archive = zipfile.ZipFile(handle)
        names = set(archive.namelist())
        if "mimetype" in names and "content.xml" in names:
            if _read_small(archive, "mimetype").strip() == _ODT_MIMETYPE:
                return ODT
            raise InvalidInput(_l("This OpenDocument file is not a text document (ODT)."), "file")
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            if "word/vbaProject.bin" in names:
                raise InvalidInput(
                    "This Word document contains macros: save it as a plain DOCX or PDF.",
                    "file",
                )
            if _DOCX_MAIN.encode() in _read_small(archive, "[Content_Types].xml"):
                return DOCX
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise InvalidInput(
            "This file is a damaged ZIP archive, not " + ACCEPTED + ".", "file"
        ) from exc
    raise InvalidInput(f"This file is a ZIP archive, not {ACCEPTED}.", "file")


def _read_small(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > _SMALL_MEMBER:
        raise InvalidInput(f"This file is not {ACCEPTED} (its {name} is too large).", "file")
    with archive.open(info) as member:
        return member.read(_SMALL_MEMBER)
