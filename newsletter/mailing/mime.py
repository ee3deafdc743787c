"""MIME messages built once and filled per recipient.

An email is rendered once to HTML and text in which per-recipient values appear as
slot markers (``[[slot:NAME]]``). ``MessageTemplate`` encodes the static parts once
(quoted-printable, so every copy is 7-bit clean and survives any relay and a DKIM
signature), and ``fill`` only encodes the slot values and joins bytes: building a
copy costs microseconds instead of the milliseconds the ``email`` package needs.

Each encoded piece starts at the beginning of a line; a piece that does not end a
line is closed with a soft line break (``=`` CRLF), which decoders remove. That keeps
the QP line-length rule without re-encoding the whole body per copy.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr

from markupsafe import escape

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
    """A header value, RFC 2047-encoded when it is not plain ASCII."""
    check_header_value(value)
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(linesep="\r\n")


def format_address(name: str | None, address: str) -> str:
    """``Name <address>`` with the name encoded when needed; the address must be ASCII."""
    check_header_value(address, "address")
    if not address.isascii():
        raise HeaderValueError("address must be ASCII (internationalised local parts are refused)")
    if not name:
        return address
    check_header_value(name, "display name")
    return formataddr((name, address), charset="utf-8")


class DotSafe(bytes):
    """A message in which no line starts with a dot, so SMTP needs no transparency
    escaping (RFC 5321 4.5.2): the transport can send it without scanning it again."""


def _qp(text: str) -> bytes:
    """Quoted-printable bytes with CRLF line ends (the input's line ends become hard
    breaks), a line-leading dot encoded as ``=2E`` so that the message is ``DotSafe``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n.", b"\n=2E")
    if encoded.startswith(b"."):
        encoded = b"=2E" + encoded[1:]
    return encoded.replace(b"\n", _CRLF)


def _piece(text: str) -> bytes:
    """One encoded piece, starting a line and ending one (softly if the text does not)."""
    encoded = _qp(text)
    if encoded.endswith(_CRLF):
        return encoded
    return encoded + _SOFT_BREAK


@dataclass(frozen=True)
class _Part:
    content_type: str
    pieces: tuple[bytes | str, ...]  # bytes: encoded static text; str: a slot name
    escape_html: bool

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
        self.parts = (_Part.compile("text/plain", text), _Part.compile("text/html", html))
        self.slot_names = frozenset().union(*(part.slot_names for part in self.parts))
        self._static_headers = _header_block(headers)
        self._body_pieces = self._compile_body()

    def _compile_body(self) -> tuple[bytes | _Part, ...]:
        delimiter = b"--" + self.boundary.encode("ascii")
        pieces: list[bytes | _Part] = [
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
                + b'; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
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
    """Header lines; values must already be encoded (ASCII, folded only with CRLF + space)."""
    lines = []
    for name, value in headers.items():
        check_header_value(name, "header name")
        check_header_value(_FOLD_RE.sub("", value), f"{name} header")
        if not value.isascii():
            raise HeaderValueError(f"{name} header is not encoded")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("ascii")
