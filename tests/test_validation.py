"""Addresses: the fast path for the common shape gives exactly email-validator's verdict."""

from __future__ import annotations

import random
from unittest import mock

import pytest
from email_validator import EmailNotValidError, validate_email

from newsletter import validation
from newsletter.validation import Address, InvalidInput, normalize_address

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
HOST = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
# Characters that make an address internationalised, odd or wrong.
ODD = [
    *"é日本ßÆøñ한ΣσЖ",  # letters outside ASCII
    "\u0301", "\u200b", "\u202e", "\u00a0", "\u3000", "\uff20", "\ufe6b",  # marks, spaces, @s
    "\u3002", "\uff0e",  # ideographic and full-width full stops (dots after UTS-46)
    *" \"(),:;<>@[\\]", ".", "..", "--", "\t",
]  # fmt: skip
TLDS = ["org", "com", "de", "jp", "ORG", "Co", "museum", "xn--p1ai", "local", "test",
        "localhost", "invalid", "onion", "arpa", "123", "c0m", "a1", "x", "photo"]  # fmt: skip
DOMAINS = ["example.org", "bücher.de", "xn--bcher-kva.de", "例え.jp", "ЯНДЕКС.РФ",
           "münchen.DE", "xn--80ak6aa92e.com", "ab--cd.org", "xn--zz.org", "sub.example.co.uk",
           "[127.0.0.1]", "[IPv6:::1]", "example.org.", ".example.org", "exa_mple.org",
           "-example.org", "example-.org", "e.x", "a" * 63 + ".org", "a" * 64 + ".org",
           "ex..ample.org", "EXAMPLE.ORG", "ⓔxample.org", "example．org"]  # fmt: skip
LOCALS = ["ann", "Ann.Smith", "a+tag", "o'brien", "x", "info", "INFO", "Postmaster", "WWW",
          "news", "abuse", "a.b.c", "a..b", ".a", "a.", "\"quoted\"", "\"with space\"",
          "jörg", "用户", "a\u0301", "", "a" * 64, "a" * 65, "{weird}|~", "no@pe",
          "Name <ann", "ann>"]  # fmt: skip


def _label(rng: random.Random) -> str:
    size = rng.choice([1, 2, 3, 5, 8, 12, 62, 63, 64])
    return "".join(rng.choice(HOST) for _ in range(size))


def _local(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return ".".join(
            "".join(rng.choice(ATEXT) for _ in range(rng.randint(1, 12)))
            for _ in range(rng.randint(1, 3))
        )
    if kind < 0.55:
        return "".join(rng.choice(ATEXT) for _ in range(rng.choice([60, 64, 65, 120, 240])))
    return rng.choice(LOCALS)


def _domain(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(DOMAINS)
    labels = [_label(rng) for _ in range(rng.randint(0, 3))]
    return ".".join([*labels, rng.choice(TLDS)])


def _mutate(rng: random.Random, address: str) -> str:
    """One edit: a character inserted, deleted or replaced (often by an odd one)."""
    position = rng.randint(0, len(address))
    odd = rng.choice(ODD) if rng.random() < 0.6 else rng.choice(ATEXT)
    edit = rng.choice(("insert", "delete", "replace"))
    if edit == "insert":
        return address[:position] + odd + address[position:]
    if edit == "delete":
        return address[:position] + address[position + 1 :]
    return address[:position] + odd + address[position + 1 :]


def corpus(size: int, seed: int = 13) -> list[str]:
    rng = random.Random(seed)
    addresses = []
    for _ in range(size):
        address = f"{_local(rng)}@{_domain(rng)}"
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
            address = _mutate(rng, address)
        if rng.random() < 0.05:
            address = f"  {address} "
        addresses.append(address)
    return addresses


def verdict(raw: str) -> Address | str:
    """The address, or the message a person is shown."""
    try:
        return normalize_address(raw)
    except InvalidInput as exc:
        return str(exc)


def by_email_validator(addresses: list[str]) -> list[Address | str]:
    """The verdicts of email-validator alone: ``normalize_address`` with its fast path
    switched off."""
    with mock.patch.object(validation, "_common_address", return_value=None) as fast:
        verdicts = [verdict(raw) for raw in addresses]
    assert fast.call_count > 0  # the patch reached the code under test
    return verdicts


def test_fast_path_agrees_with_email_validator_on_a_large_corpus():
    addresses = corpus(40_000)
    expected = by_email_validator(addresses)
    assert [verdict(raw) for raw in addresses] == expected
    fast = sum(validation._common_address(raw.strip()) is not None for raw in addresses)
    valid = [(raw, found) for raw, found in zip(addresses, expected, strict=True)
             if isinstance(found, Address)]  # fmt: skip
    international = [raw for raw, found in valid if not raw.isascii() or "xn--" in found.email]
    # The corpus exercises both paths and both verdicts, internationalised addresses too.
    assert fast > 4_000
    assert len(valid) - fast > 2_000  # valid, but only email-validator could tell
    assert len(addresses) - len(valid) > 10_000
    assert len(international) > 1_000


@pytest.mark.parametrize(
    ("raw", "email"),
    [
        ("Ann.Smith+news@Example.ORG", "Ann.Smith+news@example.org"),
        ("INFO@Example.org", "info@example.org"),  # RFC 2142 role names are lower-cased
        ("jörg@bücher.de", None),  # internationalised local part: refused (no SMTPUTF8)
        ("ann@bücher.de", "ann@xn--bcher-kva.de"),
        ("ann@example.test", None),  # special-use domain
        ("ann@ab--cd.org", None),  # R-LDH label
        ("ann@example.123", None),  # no top-level domain ends with a digit
    ],
)
def test_examples_on_both_paths(raw, email):
    (expected,) = by_email_validator([raw])
    assert verdict(raw) == expected
    if email is None:
        assert isinstance(expected, str)
        assert "not a valid email address" in expected
    else:
        assert expected == Address(email=email, key=email.lower())


def test_the_reference_really_is_email_validator():
    """Guard for the test itself: the reference path reaches email-validator."""
    with pytest.raises(EmailNotValidError):
        validate_email("ann@example.test", check_deliverability=False)
    with mock.patch.object(validation, "validate_email", side_effect=validate_email) as slow:
        by_email_validator(["ann@example.org"])
    assert slow.call_count == 1
