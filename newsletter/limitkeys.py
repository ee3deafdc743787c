"""Keys of rate limits and counters: on the address as the lookups read it, hashed.

A limit keyed on the typed text would give ``a@ｅｘａｍｐｌｅ.org`` (full-width letters)
and ``a@example．org`` a fresh budget for ``a@example.org``; a keyed hash keeps
addresses out of the limiter's storage (Redis), where erasure could not reach them.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app

from newsletter.validation import InvalidInput, normalize_address


def address_key(raw: str) -> str:
    """The address as lookups read it (its folded raw form when it is not one)."""
    try:
        return normalize_address(raw).key
    except InvalidInput:
        return " ".join(raw.split()).lower()[:254]


def hashed(kind: str, key: str) -> str:
    """A limiter key for ``kind`` that names no address."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return f"{kind}:" + hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32]
