"""VERP return paths (``bounces+<id>-<signature>@<bounce domain>``, Mailman style).

A bounce sent to such an address names the delivery it is about. The signature is a
keyed hash, so a forged bounce cannot unsubscribe anyone; it is hex (lower case)
because mail systems may change the case of a local part.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from flask import current_app

_SIGNATURE_LENGTH = 16
_VERP_RE = re.compile(r"^bounces\+(\d{1,19})-([0-9a-f]{16})@", re.IGNORECASE)


def _signature(delivery_id: int) -> str:
    key = f"verp:{current_app.config['SECRET_KEY']}".encode()
    digest = hmac.new(key, str(delivery_id).encode(), hashlib.sha256).hexdigest()
    return digest[:_SIGNATURE_LENGTH]


def return_path(delivery_id: int) -> str | None:
    """The envelope sender for one delivery, or None when no bounce domain is set."""
    domain = current_app.config["BOUNCE_DOMAIN"]
    if not domain:
        return None
    return f"bounces+{delivery_id}-{_signature(delivery_id)}@{domain}"


def delivery_of(address: str) -> int | None:
    """The delivery a bounce address names, if its signature is ours."""
    match = _VERP_RE.match(address.strip("<> "))
    if match is None:
        return None
    delivery_id = int(match.group(1))
    if not hmac.compare_digest(match.group(2).lower(), _signature(delivery_id)):
        return None
    return delivery_id
