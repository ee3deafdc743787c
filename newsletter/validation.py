"""The shared kernel of validation: what people type (addresses, names, one-line texts)
and the refusal every layer raises when input must be corrected (``InvalidInput``).

Every domain imports these from here; none of them belongs to one domain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS = 254
MAX_NAME = 200

_SPACE = 0x20  # code points below it are C0 control characters
_DELETE = 0x7F
# What XML 1.0 cannot hold (C0 controls but tab and line breaks, lone surrogates,
# U+FFFE, U+FFFF), and DEL: text with one would break the Atom feed and the archive.
_UNSTORABLE_RE = re.compile("[^\t\n\r\x20-\x7e\x80-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class InvalidInput(ValueError):
    """Input a person must correct; the message is safe to show them. ``field`` names
    the form field it is about, when it is about one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Address:
    email: str  # as we send to it: ASCII, domain lower-cased (IDNs in punycode)
    key: str  # lower-cased: one subscriber per key


def normalize_address(raw: str) -> Address:
    """Validate and normalise an address (syntax only: no DNS lookups)."""
    value = (raw or "").strip()
    if not value:
        raise InvalidInput("Please enter an email address.", "email")
    if len(value) > MAX_ADDRESS:
        raise InvalidInput(f"An email address has at most {MAX_ADDRESS} characters.", "email")
    if any(ord(ch) < _SPACE or ord(ch) == _DELETE for ch in value):
        raise InvalidInput("The email address contains a line break or control character.", "email")
    try:
        valid = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"That is not a valid email address: {exc}", "email") from exc
    email = valid.ascii_email or valid.normalized
    return Address(email=email, key=email.lower())


def check_characters(text: str, field: str) -> str:
    """Refuse control characters (but tab and line breaks) and whatever XML cannot
    hold, in any text a person writes; return the text unchanged."""
    found = _UNSTORABLE_RE.search(text or "")
    if found:
        raise InvalidInput(
            f"The {field} holds a character that cannot be stored (U+{ord(found.group()):04X}, "
            "an invisible control character, often pasted by accident): remove it.",
            field,
        )
    return text


def strip_unstorable(text: str) -> str:
    """``text`` without what XML cannot hold (for output of text stored before)."""
    return _UNSTORABLE_RE.sub("", text)


def clean_text(raw: str | None, field: str, max_length: int = MAX_NAME) -> str:
    """A single-line text field: trimmed, bounded, free of control characters (names and
    organisations reach mail headers and CSV exports)."""
    if not raw:
        return ""
    if "\r" in raw or "\n" in raw:
        raise InvalidInput(f"The {field} must be on one line.", field)
    if any((ord(ch) < _SPACE and ch != "\t") or ord(ch) == _DELETE for ch in raw):
        raise InvalidInput(f"The {field} contains a control character.", field)
    check_characters(raw, field)
    value = " ".join(raw.split())
    if len(value) > max_length:
        raise InvalidInput(f"The {field} has at most {max_length} characters.", field)
    return value
