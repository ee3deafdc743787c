"""A DKIM test key and the DNS answer that publishes it, for offline verification."""

from __future__ import annotations

import base64

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SELECTOR = "nl2026"
DOMAIN = "news.example.org"


def _key_pair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


PRIVATE, PUBLIC = _key_pair()
CONFIG = {"DKIM_DOMAIN": DOMAIN, "DKIM_SELECTOR": SELECTOR, "DKIM_PRIVATE_KEY": PRIVATE}


def dns(name: bytes, timeout: int = 5) -> bytes:
    assert name == f"{SELECTOR}._domainkey.{DOMAIN}.".encode()
    return b"v=DKIM1; k=rsa; p=" + base64.b64encode(PUBLIC)


def verifies(data: bytes) -> bool:
    return bool(dkim.verify(data, dnsfunc=dns))


def signed_headers(data: bytes) -> list[str]:
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    signature = head.split("DKIM-Signature:", 1)[1]
    tags = signature.split("h=", 1)[1].split(";", 1)[0]
    return "".join(tags.split()).lower().split(":")
