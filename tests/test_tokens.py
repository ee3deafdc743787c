"""Signed links: the fast signer of the send loop makes itsdangerous' tokens exactly."""

from __future__ import annotations

import random
import uuid
import zlib

import pytest

from newsletter import tokens
from newsletter.tokens import Purpose, make_token, read_token


def _itsdangerous(purpose: Purpose, payload: str) -> str:
    return str(tokens._serializer(purpose).dumps(payload))


@pytest.mark.parametrize("purpose", list(Purpose))
def test_fast_tokens_are_itsdangerous_tokens(app, monkeypatch, purpose):
    monkeypatch.setattr(tokens.TimestampSigner, "get_timestamp", lambda _self: 1_790_000_000)
    payloads = [uuid.uuid4().hex for _ in range(2000)]
    # These compress: repeats, or few symbols (this one has no repeated triple).
    payloads += ["0" * 64, "ab" * 32, "f", "30320301313302112130023210100031"]
    with app.app_context():
        for payload in payloads:
            token = make_token(purpose, payload)
            assert token == _itsdangerous(purpose, payload)
            assert read_token(purpose, token, max_age=None) == payload
        assert make_token(purpose, "0" * 64).startswith(".")  # the compressed form
        assert make_token(purpose, "30320301313302112130023210100031").startswith(".")


def test_payloads_judged_incompressible_never_compress():
    """The boundary of the shortcut, searched where it is closest: hex strings with no
    repeated triple over as few symbols as the shortcut allows."""
    rng = random.Random(13)
    checked = 0
    for _ in range(3000):
        alphabet = rng.sample("0123456789abcdef", rng.randint(10, 16))
        payload = ""
        for _ in range(400):
            candidate = payload + rng.choice(alphabet)
            triples = [candidate[i : i + 3] for i in range(len(candidate) - 2)]
            if len(set(triples)) == len(triples):
                payload = candidate
            if len(payload) == 32:
                break
        if tokens._incompressible(payload):
            checked += 1
            data = b'"' + payload.encode() + b'"'
            assert len(zlib.compress(data)) >= len(data) - 1, payload
    assert checked > 1000


@pytest.mark.app_config(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["old key"])
def test_fast_tokens_use_the_newest_key(app):
    payload = uuid.uuid4().hex
    with app.app_context():
        token = make_token(Purpose.UNSUBSCRIBE, payload)
        assert token == _itsdangerous(Purpose.UNSUBSCRIBE, payload)
    old = tokens.URLSafeSerializer("old key", salt="newsletter.unsubscribe").dumps(payload)
    assert token != old
    with app.app_context():
        assert read_token(Purpose.UNSUBSCRIBE, old) == payload  # old links keep working


def test_a_token_for_one_purpose_fails_for_another(app):
    with app.app_context():
        token = make_token(Purpose.UNSUBSCRIBE, uuid.uuid4().hex)
        with pytest.raises(tokens.BadToken):
            read_token(Purpose.PREFERENCES, token)


def test_fast_confirmation_tokens_expire(app, monkeypatch):
    payload = uuid.uuid4().hex
    with app.app_context():
        monkeypatch.setattr(tokens.TimestampSigner, "get_timestamp", lambda _self: 1_000_000)
        old = make_token(Purpose.CONFIRM, payload)
        monkeypatch.undo()
        with pytest.raises(tokens.ExpiredToken) as expired:
            read_token(Purpose.CONFIRM, old, max_age=3600)
        assert expired.value.payload == payload
        assert read_token(Purpose.CONFIRM, make_token(Purpose.CONFIRM, payload), 3600) == payload
