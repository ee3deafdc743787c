"""Optional DKIM signing of the bytes we send (dkimpy).

The signature covers both unsubscribe headers (dkimpy's default list omits
``List-Unsubscribe-Post``), and the bytes signed are the bytes sent: messages are
serialised once, never re-serialised after signing.
"""

from __future__ import annotations

from pathlib import Path

import dkim
from flask import Flask

SIGNED_HEADERS = (
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Reply-To", b"MIME-Version",
    b"Content-Type", b"List-Id", b"List-Unsubscribe", b"List-Unsubscribe-Post",
    b"Auto-Submitted",
)  # fmt: skip


class DKIMSigner:
    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.private_key = private_key

    def signature(self, message: bytes) -> bytes:
        """The ``DKIM-Signature`` header line(s) to put in front of ``message``."""
        present = {line.split(b":", 1)[0].strip().lower() for line in _header_lines(message)}
        headers = [name for name in SIGNED_HEADERS if name.lower() in present]
        return bytes(
            dkim.sign(
                message,
                self.selector,
                self.domain,
                self.private_key,
                include_headers=headers,
                canonicalize=(b"relaxed", b"relaxed"),
                linesep=b"\r\n",
            )
        )

    def sign(self, message: bytes) -> bytes:
        return self.signature(message) + message


def _header_lines(message: bytes) -> list[bytes]:
    head = message.split(b"\r\n\r\n", 1)[0]
    return [line for line in head.split(b"\r\n") if line and line[:1] not in (b" ", b"\t")]


def signer_for(app: Flask) -> DKIMSigner | None:
    """The signer the configuration asks for, or None (DKIM off)."""
    config = app.config
    if not (config["DKIM_DOMAIN"] and config["DKIM_SELECTOR"]):
        return None
    key = config["DKIM_PRIVATE_KEY"]
    if not key and config["DKIM_PRIVATE_KEY_FILE"]:
        key = Path(config["DKIM_PRIVATE_KEY_FILE"]).read_text()
    if not key:
        raise RuntimeError("DKIM is configured without a key: set NEWSLETTER_DKIM_PRIVATE_KEY_FILE")
    return DKIMSigner(config["DKIM_DOMAIN"], config["DKIM_SELECTOR"], str(key).encode())
