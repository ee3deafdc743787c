"""The suppression list's key: a keyed hash of an address, so an erased person's address
is recognised without being stored."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def suppression_hash(address_key: str) -> str:
    """Keyed hash of an address for the suppression list (the address itself is not kept)."""
    key = str(current_app.config["SUPPRESSION_KEY"]).encode()
    return hmac.new(key, address_key.encode(), hashlib.sha256).hexdigest()
