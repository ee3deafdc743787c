"""MIME messages built once and filled per recipient.

An email is rendered once to HTML and text in which per-recipient values appear as
slot markers (``[[slot:NAME]]``). ``MessageTemplate`` encodes the static parts once
(quoted-printable, so every copy is 7-bit clean and survives any relay and a DKIM
signature), and ``fill`` only encodes the slot values and joins bytes: building a
copy costs microseconds instead of the milliseconds the ``email`` package needs.

Each encoded piece starts at the beginning of a line; a piece that does not end a
line is closed with a soft line break (``=`` CRLF), which decoders remove. That keeps
the QP line-length rule without re-encoding the whole body per copy.

Quoted-printable writes each byte of Arabic script (Dari, Pashto) as ``=XX``: such a
part grows threefold, against base64's four thirds. Each part takes the shorter of the
two (``_encoding_for``). A base64 part encodes its static text up to the first slot
once, in whole 57-byte lines; each copy encodes only the rest, from the last whole
line before the first slot on (for a digest, the footer with its links).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from markupsafe import escape

from newsletter.mailing import encoding

# The marker carries a key made afresh by each process and never shown: text staff wrote
# ("[[slot:unsubscribe_url]]" in a point) is text, never a slot filled per recipient.
_SLOT_KEY = secrets.token_hex(8)
SLOT_MARKER = "[[slot:" + _SLOT_KEY + ":{}]]"
_SLOT_RE = re.compile(r"\[\[slot:" + _SLOT_KEY + r":(\w+)\]\]")
_SOFT_BREAK = b"=\r\n"
_CRLF = b"\r\n"


class HeaderValueError(ValueError):
    """A value meant for a header holds a line break or another control character."""


def slot(name: str) -> str:
    """The marker a template renders where a per-recipient value goes."""
    return SLOT_MARKER.format(name)


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def check_header_value(value: str, what: str = "header value") -> str:
    """Refuse CR, LF and other control characters in anything that reaches a header."""
    if _CONTROL_RE.search(value):
        raise HeaderValueError(f"{what} contains a line break or control character")
    return value


def encode_header(value: str) -> str:
    """An unstructured header value (a subject), RFC 2047-encoded word by word when it is
    not plain ASCII; the header block folds it."""
    check_header_value(value)
    return encoding.unstructured(value)


def format_address(name: str | None, address: str) -> str:
    """``Name <address>`` with the name quoted or encoded when needed (in words of at
    most 75 characters, so that the header folds); the address must be ASCII."""
    check_header_value(address, "address")
    if not address.isascii():
        raise HeaderValueError("address must be ASCII (internationalised local parts are refused)")
    if not name:
        return address
    check_header_value(name, "display name")
    return f"{encoding.phrase(name)} <{address}>"


class DotSafe(bytes):
    """A message in which no line starts with a dot, so SMTP needs no transparency
    escaping (RFC 5321 4.5.2): the transport can send it without scanning it again."""


def _qp(text: str) -> bytes:
    """Quoted-printable bytes with CRLF line ends (the input's line ends become hard
    breaks), a line-leading dot encoded as ``=2E`` so that the message is ``DotSafe``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    if encoded.startswith(b".") or any(mark in encoded for mark in _LONG_LINE_MARKS):
        encoded = b"\n".join(_dot_safe_line(line) for line in encoded.split(b"\n"))
    return encoded.replace(b"\n", _CRLF)


_QP_LINE = 76  # RFC 2045 6.7: encoded lines of at most 76 characters
# Where b2a_qp's output needs a second look: a line that starts with a dot, and a
# space or tab before a line end, which b2a_qp escapes after wrapping (a 78-character
# line for 75 letters and a space).
_LONG_LINE_MARKS = (b"\n.", b"=20\n", b"=09\n")


def _dot_safe_line(line: bytes) -> bytes:
    """One encoded line with a leading dot written ``=2E``, cut again (softly, never
    inside an escape) where that, or an escaped trailing space, made it longer than 76
    characters."""
    pieces = []
    while True:
        if line.startswith(b"."):
            line = b"=2E" + line[1:]
        if len(line) <= _QP_LINE:
            break
        cut = _QP_LINE - 1
        if line[cut - 1 : cut] == b"=":
            cut -= 1
        elif line[cut - 2 : cut - 1] == b"=":
            cut -= 2
        pieces.append(line[:cut] + b"=")
        line = line[cut:]
    pieces.append(line)
    return b"\n".join(pieces)


def _piece(text: str) -> bytes:
    """One encoded piece, starting a line and ending one (softly if the text does not)."""
    encoded = _qp(text)
    if encoded.endswith(_CRLF):
        return encoded
    if len(encoded) - encoded.rfind(b"\n") - 1 >= _QP_LINE:
        # A last line of 76 characters leaves no room for the soft break's "=": its last
        # character (or escape) moves to a line of its own.
        keep = 3 if encoded[-3:-2] == b"=" else 1
        tail = encoded[-keep:]
        encoded = encoded[:-keep] + _SOFT_BREAK + (b"=2E" if tail == b"." else tail)
    return encoded + _SOFT_BREAK


_B64_LINE = 57  # bytes per 76-character base64 line (RFC 2045 6.8)


def _b64(data: bytes) -> bytes:
    """Base64 in lines of 76 characters, each ended by CRLF."""
    return base64.encodebytes(data).replace(b"\n", _CRLF)


def _encoding_for(text: str) -> str:
    """``base64`` when it is shorter than quoted-printable (Arabic script), else
    ``quoted-printable`` (Latin text stays readable in the source)."""
    data = _lines(text).encode("utf-8")
    if data.isascii():
        return "quoted-printable"
    shorter = len(base64.encodebytes(data)) < len(binascii.b2a_qp(data, istext=True))
    return "base64" if shorter else "quoted-printable"


def _lines(text: str) -> str:
    """Line ends as LF (CRLF and a lone CR become one), as ``_qp`` reads them."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _canonical(text: str) -> bytes:
    """UTF-8 with CRLF line ends: text in canonical form, as base64 must carry it."""
    return _lines(text).replace("\n", "\r\n").encode("utf-8")


@dataclass(frozen=True)
class _Base64Part:
    """A part encoded in base64: ``head`` (whole lines, encoded once), then ``tail``,
    the static text and slots encoded per copy."""

    content_type: str
    head: bytes
    tail: tuple[bytes | str, ...]  # bytes: UTF-8 static text; str: a slot name
    escape_html: bool
    transfer_encoding = "base64"

    @classmethod
    def compile(cls, content_type: str, text: str) -> _Base64Part:
        pieces: list[bytes | str] = []
        position = 0
        for match in _SLOT_RE.finditer(text):
            if match.start() > position:
                pieces.append(_canonical(text[position : match.start()]))
            pieces.append(match.group(1))
            position = match.end()
        if position < len(text):
            pieces.append(_canonical(text[position:]))
        head = b""
        if pieces and isinstance(pieces[0], bytes):
            whole = len(pieces[0]) // _B64_LINE * _B64_LINE
            head, pieces[0] = _b64(pieces[0][:whole]), pieces[0][whole:]
        return cls(content_type, head, tuple(pieces), content_type == "text/html")

    @property
    def slot_names(self) -> set[str]:
        return {piece for piece in self.tail if isinstance(piece, str)}

    def encode(self, slots: Mapping[str, str]) -> Iterable[bytes]:
        yield self.head
        rest = []
        for piece in self.tail:
            if isinstance(piece, bytes):
                rest.append(piece)
            else:
                value = slots[piece]
                rest.append(_canonical(str(escape(value)) if self.escape_html else value))
        yield _b64(b"".join(rest))


@dataclass(frozen=True)
class _Part:
    content_type: str
    pieces: tuple[bytes | str, ...]  # bytes: encoded static text; str: a slot name
    escape_html: bool
    transfer_encoding = "quoted-printable"

    @classmethod
    def compile(cls, content_type: str, text: str) -> _Part:
        pieces: list[bytes | str] = []
        position = 0
        for match in _SLOT_RE.finditer(text):
            if match.start() > position:
                pieces.append(_piece(text[position : match.start()]))
            pieces.append(match.group(1))
            position = match.end()
        if position < len(text):
            pieces.append(_piece(text[position:]))
        return cls(content_type, tuple(pieces), content_type == "text/html")

    @property
    def slot_names(self) -> set[str]:
        return {piece for piece in self.pieces if isinstance(piece, str)}

    def encode(self, slots: Mapping[str, str]) -> Iterable[bytes]:
        for piece in self.pieces:
            if isinstance(piece, bytes):
                yield piece
                continue
            value = slots[piece]
            if self.escape_html:
                value = str(escape(value))
            if value:
                yield _piece(value)


class MessageTemplate:
    """A multipart/alternative message (text, then HTML) rendered once, filled per copy."""

    def __init__(self, *, text: str, html: str, headers: Mapping[str, str]) -> None:
        self.boundary = "=_nl_" + secrets.token_hex(12)
        self.parts = tuple(
            (_Base64Part if _encoding_for(body) == "base64" else _Part).compile(kind, body)
            for kind, body in (("text/plain", text), ("text/html", html))
        )
        self.slot_names = frozenset().union(*(part.slot_names for part in self.parts))
        self._static_headers = _header_block(headers)
        self._body_pieces = self._compile_body()

    def _compile_body(self) -> tuple[bytes | _Part | _Base64Part, ...]:
        delimiter = b"--" + self.boundary.encode("ascii")
        pieces: list[bytes | _Part | _Base64Part] = [
            b"MIME-Version: 1.0\r\n"
            b'Content-Type: multipart/alternative; boundary="'
            + self.boundary.encode("ascii")
            + b'"\r\n\r\n'
        ]
        for part in self.parts:
            pieces.append(
                delimiter
                + b"\r\nContent-Type: "
                + part.content_type.encode("ascii")
                + b'; charset="utf-8"\r\nContent-Transfer-Encoding: '
                + part.transfer_encoding.encode("ascii")
                + b"\r\n\r\n"
            )
            pieces.append(part)
            pieces.append(_CRLF)
        pieces.append(delimiter + b"--\r\n")
        return tuple(pieces)

    def fill(self, headers: Mapping[str, str], slots: Mapping[str, str]) -> DotSafe:
        """The bytes of one copy: its own headers first, then the shared ones and the body.

        ``slots`` must give a value for every slot the templates used. Header lines start
        with a name or folding space, boundaries with ``--``, encoded lines never with a
        dot: the result is ``DotSafe``.
        """
        missing = self.slot_names.difference(slots)
        if missing:
            raise KeyError(f"no value for slot(s): {', '.join(sorted(missing))}")
        chunks: list[bytes] = [_header_block(headers), self._static_headers]
        for piece in self._body_pieces:
            if isinstance(piece, bytes):
                chunks.append(piece)
            else:
                chunks.extend(piece.encode(slots))
        return DotSafe(b"".join(chunks))


_FOLD_RE = re.compile(r"\r\n(?=[ \t])")


def _header_block(headers: Mapping[str, str]) -> bytes:
    """Header lines; values must already be encoded (ASCII, folded only with CRLF + space).
    A line over 78 characters is folded at its spaces (a 200-emoji name must not make a
    1,100-byte ``To:`` line, which relays refuse)."""
    lines = []
    for name, value in headers.items():
        check_header_value(name, "header name")
        check_header_value(_FOLD_RE.sub("", value), f"{name} header")
        if not value.isascii():
            raise HeaderValueError(f"{name} header is not encoded")
        folded = value
        if encoding.needs_folding(name, value):
            try:
                folded = encoding.fold(name, value)
            except encoding.HeaderTooLong as exc:
                raise HeaderValueError(str(exc)) from exc
        lines.append(f"{name}: {folded}\r\n")
    return "".join(lines).encode("ascii")
