"""Signed tokens for public links: one salt per purpose, so a token made for one link
never works for another.

Tokens carry a public identifier (a UUID), never a serial id. Expiring purposes
embed a timestamp; links that must keep working (unsubscribe, preferences) do not.
``SECRET_KEY_FALLBACKS`` keeps old links valid across a key rotation.
"""

from __future__ import annotations

import enum
import functools
import hmac
import re
import zlib
from collections.abc import Callable
from typing import Any

from flask import current_app
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    Signer,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
    base64_encode,
    want_bytes,
)
from itsdangerous.encoding import int_to_bytes


class Purpose(enum.StrEnum):
    CONFIRM = "confirm"
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    REPORT_VERIFY = "report-verify"  # a report request's address
    REPORT_DOWNLOAD = "report-download"  # an approved request's download link
    REPORT_ERASE = "report-erase"  # a requester erasing their data


_EXPIRING = {Purpose.CONFIRM, Purpose.REPORT_VERIFY, Purpose.REPORT_DOWNLOAD}


class BadToken(Exception):
    """The token was not made by us for this purpose (mangled, forged or reused elsewhere)."""


class ExpiredToken(BadToken):
    """The token is genuine but too old; ``payload`` says whom it was for."""

    def __init__(self, payload: str) -> None:
        super().__init__("expired")
        self.payload = payload


class _Signer(Signer):
    """itsdangerous' signer, deriving each key once (the send loop signs two links per
    message; deriving the key is a hash per signature otherwise)."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        chosen = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        return _derived(chosen, self.salt, self.key_derivation, self.digest_method)


@functools.lru_cache(maxsize=64)
def _derived(secret_key: bytes, salt: bytes, derivation: str, digest: Any) -> bytes:
    plain = Signer(secret_key, salt=salt, key_derivation=derivation, digest_method=digest)
    return plain.derive_key()


class _TimedSigner(TimestampSigner, _Signer):
    """The same, with a timestamp."""


def _serializer(purpose: Purpose) -> URLSafeSerializer:
    cache = current_app.extensions.setdefault("newsletter.serializers", {})
    serializer = cache.get(purpose)
    if serializer is None:
        config = current_app.config
        keys = [*(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]
        cls = URLSafeTimedSerializer if purpose in _EXPIRING else URLSafeSerializer
        signer = _TimedSigner if purpose in _EXPIRING else _Signer
        serializer = cache[purpose] = cls(keys, salt=f"newsletter.{purpose.value}", signer=signer)
    return serializer


def make_token(purpose: Purpose, payload: str) -> str:
    if _HEX_RE.fullmatch(payload):
        return _fast_signer(purpose)(payload)
    return str(_serializer(purpose).dumps(payload))


_HEX_RE = re.compile(r"[0-9a-f]{1,64}")
_MANY_SYMBOLS = 10
_REPEATED_TRIPLE = re.compile(r"(?=(...)).(?=.*\1)")  # three characters seen again later


def _incompressible(payload: str) -> bool:
    """Whether zlib surely cannot shorten the quoted payload (zlib costs more than the
    rest of a token: it sets up its window per call). Deflate shortens text by repeats
    of three characters or more, or by few distinct symbols; without repeats, with ten
    symbols or more, its output stays longer than the input (tests/test_tokens.py
    checks the boundary). Payloads that may compress are left to zlib to decide."""
    return len(set(payload)) >= _MANY_SYMBOLS and _REPEATED_TRIPLE.search(payload) is None


def _fast_signer(purpose: Purpose) -> Callable[[str], str]:
    """``URLSafe(Timed)Serializer.dumps`` for a hex payload (a public id), byte for byte,
    in a fifth of the time: the JSON is the quoted string, the keyed HMAC is set up once
    and copied per token (the send loop signs two links a message, the subscribe form
    one)."""
    cache = current_app.extensions.setdefault("newsletter.fast_signers", {})
    sign = cache.get(purpose)
    if sign is None:
        signer = _serializer(purpose).make_signer()
        keyed = hmac.new(signer.derive_key(), None, signer.digest_method)
        timed = signer if isinstance(signer, TimestampSigner) else None

        def sign(payload: str) -> str:
            data = b'"' + payload.encode("ascii") + b'"'
            compressed = None if _incompressible(payload) else zlib.compress(data)
            if compressed is not None and len(compressed) < len(data) - 1:  # as itsdangerous
                encoded = b"." + base64_encode(compressed)
            else:
                encoded = base64_encode(data)
            if timed is not None:  # as TimestampSigner.sign: the time is signed too
                encoded += b"." + base64_encode(int_to_bytes(timed.get_timestamp()))
            mac = keyed.copy()
            mac.update(encoded)
            return (encoded + b"." + base64_encode(mac.digest())).decode("ascii")

        cache[purpose] = sign
    return sign


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
