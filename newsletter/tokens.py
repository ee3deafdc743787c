"""Signed tokens for public links: one salt per purpose, so a token made for one link
never works for another.

Tokens carry a public identifier (a UUID), never a serial id. Expiring purposes
embed a timestamp; links that must keep working (unsubscribe, preferences) do not.
``SECRET_KEY_FALLBACKS`` keeps old links valid across a key rotation.
"""

from __future__ import annotations

import enum

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"


_EXPIRING = {Purpose.CONFIRM}


class BadToken(Exception):
    """The token was not made by us for this purpose (mangled, forged or reused elsewhere)."""


class ExpiredToken(BadToken):
    """The token is genuine but too old; ``payload`` says whom it was for."""

    def __init__(self, payload: str) -> None:
        super().__init__("expired")
        self.payload = payload


def _serializer(purpose: Purpose) -> URLSafeSerializer:
    cache = current_app.extensions.setdefault("newsletter.serializers", {})
    serializer = cache.get(purpose)
    if serializer is None:
        config = current_app.config
        keys = [*(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]
        cls = URLSafeTimedSerializer if purpose in _EXPIRING else URLSafeSerializer
        serializer = cache[purpose] = cls(keys, salt=f"newsletter.{purpose.value}")
    return serializer


def make_token(purpose: Purpose, payload: str) -> str:
    return str(_serializer(purpose).dumps(payload))


def read_token(purpose: Purpose, token: str, max_age: int | None = None) -> str:
    """The payload of a token made for ``purpose``; raise BadToken or ExpiredToken."""
    serializer = _serializer(purpose)
    try:
        if isinstance(serializer, URLSafeTimedSerializer):
            payload = serializer.loads(token, max_age=max_age)
        else:
            payload = serializer.loads(token)
    except SignatureExpired as exc:
        try:
            expired = serializer.load_payload(exc.payload) if exc.payload is not None else None
        except BadSignature:
            expired = None
        if not isinstance(expired, str):
            raise BadToken("unreadable payload") from exc
        raise ExpiredToken(expired) from exc
    except BadSignature as exc:
        raise BadToken(str(exc)) from exc
    if not isinstance(payload, str):
        raise BadToken("unexpected payload")
    return payload
