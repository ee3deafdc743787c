"""The shared kernel of validation: what people type (addresses, names, one-line texts,
texts of several lines) and the refusal every layer raises when input must be corrected
(``InvalidInput``).

Every domain imports these from here; none of them belongs to one domain. Every text a
person sends passes one of these checks before it is stored: control characters are
refused, a NUL byte above all (PostgreSQL cannot store one in a text column).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from flask_babel import lazy_gettext as _l

MAX_ADDRESS = 254
MAX_NAME = 200

# C0 control characters and DEL, except tab, line feed and carriage return (line breaks
# are each caller's decision).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANY_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_LINE_BREAK_RE = re.compile(r"[\r\n]")
_LAST_PARTIAL_WORD_RE = re.compile(r"\s+\S*$")
# What XML 1.0 cannot hold besides control characters (lone surrogates, U+FFFE, U+FFFF):
# text with one would break the Atom feed and the archive.
_UNSTORABLE_RE = re.compile("[^\t\n\r\x20-\x7e\x80-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

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
    the form field it is about, when it is about one. A message may be a lazy string
    (``lazy_gettext``): ``str(error)`` gives it in the language being rendered, so a
    page shows it in the page's language and the command line in the default one."""

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
        raise InvalidInput(_l("Please enter an email address."), "email")
    if len(value) > MAX_ADDRESS:
        raise InvalidInput(
            _l("An email address has at most %(count)s characters.", count=MAX_ADDRESS), "email"
        )
    if _ANY_CONTROL_RE.search(value):
        raise InvalidInput(
            _l("The email address contains a line break or control character."), "email"
        )
    email = _common_address(value)
    if email is None:
        try:
            valid = validate_email(value, check_deliverability=False, allow_smtputf8=False)
        except EmailNotValidError as exc:
            raise InvalidInput(
                _l("That is not a valid email address: %(reason)s", reason=str(exc)), "email"
            ) from exc
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


def check_characters(raw: str, field: str, *, label: str | None = None) -> None:
    """Refuse control characters other than tab and line breaks, and what XML cannot
    hold (U+FFFE, U+FFFF, lone surrogates). ``field`` names the
    form field; ``label`` what the message calls it (the field's name by default)."""
    if _CONTROL_RE.search(raw):
        raise InvalidInput(f"The {label or field} contains a control character.", field)
    found = _UNSTORABLE_RE.search(raw)
    if found:
        raise InvalidInput(
            f"The {label or field} holds a character that cannot be stored "
            f"(U+{ord(found.group()):04X}, invisible, often pasted by accident): remove it.",
            field,
        )


def strip_unstorable(text: str) -> str:
    """``text`` without what XML cannot hold (for output of text stored before it was
    refused)."""
    return _UNSTORABLE_RE.sub("", _CONTROL_RE.sub("", text))


def clean_text(
    raw: str | None, field: str, max_length: int = MAX_NAME, *, label: str | None = None
) -> str:
    """A single-line text field: trimmed, bounded, free of control characters (names and
    organisations reach mail headers and CSV exports)."""
    if not raw:
        return ""
    name = label or field
    if _LINE_BREAK_RE.search(raw):
        raise InvalidInput(f"The {name} must be on one line.", field)
    check_characters(raw, field, label=name)
    value = " ".join(raw.split())
    if len(value) > max_length:
        raise InvalidInput(f"The {name} has at most {max_length} characters.", field)
    return value


def clean_block(raw: str | None, field: str, max_length: int, *, label: str | None = None) -> str:
    """A text of several lines or paragraphs (a narrative, an introduction): line ends
    made ``\\n``, trimmed, bounded, free of control characters but tab."""
    if not raw:
        return ""
    name = label or field
    check_characters(raw, field, label=name)
    value = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > max_length:
        raise InvalidInput(f"The {name} has at most {max_length} characters.", field)
    return value


def shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its beginning cut at a word
    boundary and ended with an ellipsis, ``limit`` characters at most in all (cut inside
    a word only when the first word alone is too long)."""
    if len(text) <= limit:
        return text
    room = limit - 1  # for the ellipsis
    head = text[:room]
    if not text[room].isspace():
        head = _LAST_PARTIAL_WORD_RE.sub("", head) or head
    return head.rstrip(" \t,;:-–—") + "…"
