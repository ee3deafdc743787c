"""The shared kernel of validation: what people type (addresses, names, one-line texts)
and the refusal every layer raises when input must be corrected (``InvalidInput``).

Every domain imports these from here; none of them belongs to one domain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

MAX_ADDRESS = 254
MAX_NAME = 200

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # C0 control characters and DEL
_CONTROL_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# The common shape of an address, which email-validator accepts unchanged except for
# the domain's case: a dot-atom of ASCII atext before the @, ASCII hostname labels
# after it, the last one ending with a letter. email-validator costs ~30 µs an address,
# this test ~1 µs, so an import of a large file spends its time elsewhere. Whatever
# does not match (quoting, internationalised text, punycode and R-LDH labels with
# "--", special-use domains, RFC 2142 role names it lower-cases, and every invalid
# address) goes to email-validator, which keeps the last word and writes the message.
# tests/test_validation.py proves the two agree on a large generated corpus.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_COMMON_ADDRESS = re.compile(
    rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+(?:[A-Za-z0-9][A-Za-z0-9-]{{0,61}})?[A-Za-z])"
)
# email-validator's own lists, so that an upgrade of it moves both paths together.
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)
_ROLE_NAMES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


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
    if _CONTROL.search(value):
        raise InvalidInput("The email address contains a line break or control character.", "email")
    email = _common_address(value)
    if email is None:
        try:
            valid = validate_email(value, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            raise InvalidInput(f"That is not a valid email address: {exc}", "email") from exc
        email = valid.ascii_email or valid.normalized
    return Address(email=email, key=email.lower())


def _common_address(value: str) -> str | None:
    """The normalised form of an address of the common shape, as email-validator
    would give it (the domain lower-cased); None for anything else."""
    match = _COMMON_ADDRESS.fullmatch(value)
    if match is None:
        return None
    local, domain = match.groups()
    domain = domain.lower()
    if "--" in domain or domain.rsplit(".", 1)[1] in _SPECIAL_USE or local.lower() in _ROLE_NAMES:
        return None
    return f"{local}@{domain}"


def clean_text(raw: str | None, field: str, max_length: int = MAX_NAME) -> str:
    """A single-line text field: trimmed, bounded, free of control characters (names and
    organisations reach mail headers and CSV exports)."""
    if not raw:
        return ""
    if "\r" in raw or "\n" in raw:
        raise InvalidInput(f"The {field} must be on one line.", field)
    if _CONTROL_BUT_TAB.search(raw):
        raise InvalidInput(f"The {field} contains a control character.", field)
    value = " ".join(raw.split())
    if len(value) > max_length:
        raise InvalidInput(f"The {field} has at most {max_length} characters.", field)
    return value
