"""The suppression list's key: a keyed hash of an address, so an erased person's address
is recognised without being stored."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import current_app


def suppression_hash(address_key: str) -> str:
    """Keyed hash of an address for the suppression list (the address itself is not kept)."""
    return suppression_hasher()(address_key)


def suppression_hasher() -> Callable[[str], str]:
    """``suppression_hash`` for many addresses: the key is set up once, each address then
    costs one copy of the keyed state (an import hashes every row it may add)."""
    keyed = hmac.new(str(current_app.config["SUPPRESSION_KEY"]).encode(), None, hashlib.sha256)

    def address_hash(address_key: str) -> str:
        state = keyed.copy()
        state.update(address_key.encode())
        return state.hexdigest()

    return address_hash
