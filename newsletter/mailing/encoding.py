"""Header values as RFC 5322 and RFC 2047 want them: encoded words of at most 75
characters, phrases quoted when they need it, lines folded at 78.

``email.utils.formataddr`` writes a non-ASCII display name as one encoded word
whatever its length (200 emoji make a 1,100-byte ``To:`` line that relays refuse),
so names and subjects are encoded here, word by word, and any header line longer
than 78 characters is folded at its spaces.
"""

from __future__ import annotations

import base64
import re

MAX_LINE = 78  # RFC 5322 2.1.1: SHOULD
MAX_HARD_LINE = 998  # RFC 5322 2.1.1: MUST
MAX_WORD = 75  # RFC 2047 2
# Our words are shorter still, so that the first one fits on the line of any header
# name we use ("Subject: " and a 60-character word make 69).
WORD = 60
_B_PREFIX, _Q_PREFIX, _SUFFIX = "=?utf-8?b?", "=?utf-8?q?", "?="
_OVERHEAD = len(_B_PREFIX) + len(_SUFFIX)
_B_MAX_BYTES = (WORD - _OVERHEAD) // 4 * 3  # 36 bytes: 48 base64 characters
# RFC 2047 5(3): what a "Q"-encoded word may carry as is in a phrase (and a subject).
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_ATOM_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]*$")  # atext and spaces


class HeaderTooLong(ValueError):
    """A header holds a word longer than a line may ever be (998 characters)."""


def _q_cost(byte: int) -> int:
    return 1 if byte in _Q_SAFE or byte == 0x20 else 3  # noqa: PLR2004 - a space is "_"


def _q_word(data: bytes) -> str:
    out = []
    for byte in data:
        if byte in _Q_SAFE:
            out.append(chr(byte))
        elif byte == 0x20:  # noqa: PLR2004 - a space
            out.append("_")
        else:
            out.append(f"={byte:02X}")
    return _Q_PREFIX + "".join(out) + _SUFFIX


def _b_word(data: bytes) -> str:
    return _B_PREFIX + base64.b64encode(data).decode("ascii") + _SUFFIX


def _chunks(text: str, fits: object) -> list[bytes]:
    """``text`` cut between characters into UTF-8 chunks each accepted by ``fits``."""
    chunks: list[bytes] = []
    current = b""
    for char in text:
        encoded = char.encode("utf-8")
        if current and not fits(current + encoded):  # type: ignore[operator]
            chunks.append(current)
            current = encoded
        else:
            current += encoded
    if current:
        chunks.append(current)
    return chunks


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded words of at most 60 characters ("Q" when that is
    shorter, as for mostly Latin text; else "B"). Whitespace between adjacent encoded
    words is not part of the text (RFC 2047 6.2), so they are joined with spaces and
    may be folded between. (Python 3.11's address parser keeps that space in display
    names, against the RFC; mail clients do not.)"""
    data = text.encode("utf-8")
    q_length = sum(_q_cost(byte) for byte in data)
    if q_length <= len(base64.b64encode(data)):
        limit = WORD - _OVERHEAD
        chunks = _chunks(text, lambda chunk: sum(_q_cost(b) for b in chunk) <= limit)
        return [_q_word(chunk) for chunk in chunks]
    return [_b_word(chunk) for chunk in _chunks(text, lambda c: len(c) <= _B_MAX_BYTES)]


def _looks_encoded(value: str) -> bool:
    """Whether ASCII text holds ``=?``, which a reader may decode as an RFC 2047 encoded
    word: such text is encoded itself, so that it reads as written."""
    return "=?" in value


def unstructured(value: str) -> str:
    """An unstructured header value (a subject): ASCII as it is, else encoded words."""
    if value.isascii() and not _looks_encoded(value):
        return value
    return " ".join(encoded_words(value))


def phrase(value: str) -> str:
    """A display name or ``List-Id`` phrase: atoms as they are, other ASCII text as a
    quoted string, non-ASCII text as encoded words."""
    if not value.isascii() or _looks_encoded(value):
        return " ".join(encoded_words(value))
    if _ATOM_RE.match(value) and value.strip() == value and "  " not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def fold(name: str, value: str) -> str:
    """``value`` folded at its spaces so that each line of ``name: value`` has at most 78
    characters where a space allows it (a long URL stays whole). Folding puts CRLF in
    front of an existing space, so the unfolded value is unchanged."""
    words = value.replace("\r\n", "").split(" ")
    lines: list[str] = []
    current = words[0]
    used = len(name) + 2 + len(current)
    for word in words[1:]:
        if used + 1 + len(word) > MAX_LINE and current.strip():
            lines.append(current)
            current, used = " " + word, 1 + len(word)
        else:
            current += " " + word
            used += 1 + len(word)
    lines.append(current)
    if any(len(line) > MAX_HARD_LINE for line in lines):
        raise HeaderTooLong(f"{name} header holds a word over {MAX_HARD_LINE} characters")
    return "\r\n".join(lines)


def needs_folding(name: str, value: str) -> bool:
    if len(name) + 2 + len(value) <= MAX_LINE:
        return False
    first, *rest = value.split("\r\n")
    return len(name) + 2 + len(first) > MAX_LINE or any(len(line) > MAX_LINE for line in rest)
