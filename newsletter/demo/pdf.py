"""A small, real PDF made from text: the demo session's detailed report.

PDF 1.4 with the standard Helvetica fonts (no embedding), A4 pages, text wrapped and
paginated, a cross-reference table with exact offsets: any reader opens it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

_WIDTH, _HEIGHT = 595, 842  # A4 in points
_MARGIN = 56
_LEADING = 15
_LINES_PER_PAGE = (_HEIGHT - 2 * _MARGIN) // _LEADING
_WRAP = 88
_ENCODING = "cp1252"  # what WinAnsiEncoding is, typographic quotes and dashes included


def _text(value: str) -> bytes:
    """A PDF string literal in WinAnsiEncoding."""
    raw = value.encode(_ENCODING, errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def _lines(title: str, paragraphs: Sequence[str]) -> list[tuple[str, str]]:
    """(font, text) lines: the title in bold, then each paragraph wrapped, with a blank
    line between paragraphs."""
    lines = [("F2", line) for line in textwrap.wrap(title, 60)] + [("F1", "")]
    for paragraph in paragraphs:
        lines.extend(("F1", line) for line in textwrap.wrap(" ".join(paragraph.split()), _WRAP))
        lines.append(("F1", ""))
    return lines


def _page_stream(lines: Sequence[tuple[str, str]], number: int, total: int) -> bytes:
    out = [b"BT", f"{_LEADING} TL {_MARGIN} {_HEIGHT - _MARGIN} Td".encode()]
    font = ""
    for face, text in lines:
        if face != font:
            size = 15 if face == "F2" else 11
            out.append(f"/{face} {size} Tf".encode())
            font = face
        out.append(_text(text) + b" Tj T*")
    out.append(b"ET")
    footer = f"Page {number} of {total}"
    out.append(f"BT /F1 9 Tf {_MARGIN} {_MARGIN // 2} Td ".encode() + _text(footer) + b" Tj ET")
    return b"\n".join(out)


def text_pdf(title: str, paragraphs: Sequence[str]) -> bytes:
    lines = _lines(title, paragraphs)
    pages = [lines[i : i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)]
    # Objects: 1 catalog, 2 page tree, 3 and 4 fonts, then a page and its content each.
    page_ids = [5 + 2 * index for index in range(len(pages))]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{pid} 0 R".encode() for pid in page_ids)
        + f"] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    for index, page in enumerate(pages):
        stream = _page_stream(page, index + 1, len(pages))
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_WIDTH} {_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
            f"/Contents {page_ids[index] + 1} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    body += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(body)
