"""The shared kernel of validation: what people type (addresses, names, one-line texts)
and the refusal every layer raises when input must be corrected (``InvalidInput``).

Every domain imports these from here; none of them belongs to one domain."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

MAX_ADDRESS = 254
MAX_NAME = 200

_SPACE = 0x20  # code points below it are C0 control characters
_DELETE = 0x7F


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


def clean_text(raw: str | None, field: str, max_length: int = MAX_NAME) -> str:
    """A single-line text field: trimmed, bounded, free of control characters (names and
    organisations reach mail headers and CSV exports)."""
    if not raw:
        return ""
    if "\r" in raw or "\n" in raw:
        raise InvalidInput(f"The {field} must be on one line.", field)
    if any((ord(ch) < _SPACE and ch != "\t") or ord(ch) == _DELETE for ch in raw):
        raise InvalidInput(f"The {field} contains a control character.", field)
    value = " ".join(raw.split())
    if len(value) > max_length:
        raise InvalidInput(f"The {field} has at most {max_length} characters.", field)
    return value


def clean_paragraphs(raw: str | None, field: str, max_length: int) -> str:
    """A multi-line text (a purpose, a note): line ends normalised, outer space trimmed,
    at most one blank line in a row, bounded, free of other control characters."""
    if not raw:
        return ""
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if any((ord(ch) < _SPACE and ch not in "\n\t") or ord(ch) == _DELETE for ch in text):
        raise InvalidInput(f"The {field} contains a control character.", field)
    lines = [line.rstrip() for line in text.strip().split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    value = "\n".join(kept)
    if len(value) > max_length:
        raise InvalidInput(f"The {field} has at most {max_length} characters.", field)
    return value
