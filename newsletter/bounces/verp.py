"""Return addresses that name what a bounce is about, signed so that forged bounces
match no one.

- VERP return paths (Mailman style): ``bounces+<delivery>-<signature>@<bounce domain>``
  for a digest copy, ``bounces+s<subscriber>-<signature>@…`` for transactional mail
  to a subscriber (a confirmation, a welcome), plain ``bounces@…`` for mail to
  anyone else.
- The ``Message-ID`` of a digest copy, ``<<digest>.d<delivery>.<signature>@<domain>>``:
  found in the returned headers when a report does not come back to the VERP address.

Signatures are keyed hashes in lower-case hex (mail systems may change the case of a
local part).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

from flask import current_app

_SIGNATURE_LENGTH = 16
_VERP_RE = re.compile(r"^bounces\+(s?)(\d{1,19})-([0-9a-f]{16})@", re.IGNORECASE)
_MESSAGE_ID_RE = re.compile(r"^<?[0-9a-f]{16}\.d(\d{1,19})\.([0-9a-f]{16})@", re.IGNORECASE)

Kind = Literal["delivery", "subscriber"]
_PREFIX: dict[Kind, str] = {"delivery": "", "subscriber": "s"}


@dataclass(frozen=True)
class Named:
    """What a signed address names; ``genuine`` is False for a VERP-shaped address
    whose signature is not ours (forged or mangled: it matches no one)."""

    kind: Kind
    number: int
    genuine: bool


def _signature(value: str, purpose: str = "verp") -> str:
    key = f"{purpose}:{current_app.config['SECRET_KEY']}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:_SIGNATURE_LENGTH]


def _verp(kind: Kind, number: int) -> str | None:
    domain = current_app.config["BOUNCE_DOMAIN"]
    if not domain:
        return None
    value = f"{_PREFIX[kind]}{number}"
    return f"bounces+{value}-{_signature(value)}@{domain}"


def return_path(delivery_id: int) -> str | None:
    """The envelope sender of one digest copy, or None when no bounce domain is set."""
    return _verp("delivery", delivery_id)


def envelope_sender(subscriber_id: int | None, fallback: str) -> str:
    """The envelope sender of transactional mail: a signed VERP address for a
    subscriber, ``bounces@<bounce domain>`` for anyone else, ``fallback`` (the From
    address) when no bounce domain is set."""
    domain = current_app.config["BOUNCE_DOMAIN"]
    if not domain:
        return fallback
    if subscriber_id is None:
        return f"bounces@{domain}"
    return _verp("subscriber", subscriber_id) or fallback


def read(address: str) -> Named | None:
    """What a VERP address names, or None when it is not one of ours in shape."""
    match = _VERP_RE.match(address.strip("<> "))
    if match is None:
        return None
    kind: Kind = "subscriber" if match.group(1) else "delivery"
    value = f"{_PREFIX[kind]}{int(match.group(2))}"
    genuine = hmac.compare_digest(match.group(3).lower(), _signature(value))
    return Named(kind, int(match.group(2)), genuine)


def delivery_of(address: str) -> int | None:
    """The delivery a bounce address names, if its signature is ours."""
    named = read(address)
    if named is None or not named.genuine or named.kind != "delivery":
        return None
    return named.number


def message_id(digest_key: str, delivery_id: int, domain: str) -> str:
    """A copy's Message-ID: stable for the delivery (a retry reuses it), unique per copy,
    with nothing in it that stays the same for one subscriber across digests."""
    signature = _signature(str(delivery_id), "message-id")
    return f"<{digest_key}.d{delivery_id}.{signature}@{domain}>"


def delivery_of_message_id(value: str) -> int | None:
    """The delivery a returned Message-ID names, if it is one of ours."""
    match = _MESSAGE_ID_RE.match(value.strip())
    if match is None:
        return None
    delivery_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2).lower(), _signature(str(delivery_id), "message-id")):
        return None
    return delivery_id
