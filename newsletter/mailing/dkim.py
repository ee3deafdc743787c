"""DKIM signing of every message we send (dkimpy): digests, confirmations, welcomes,
notes, test sends, report mail.

The signature covers the header set receivers judge (both unsubscribe headers, which
dkimpy's default list omits, and ``Feedback-ID``) and over-signs ``From`` and
``Subject`` so that a second one cannot be added without breaking it. The bytes
signed are the bytes sent: messages are serialised once, never re-serialised after
signing. A signing domain that does not align with the From domain is refused at
start: DMARC would not count the signature as ours.
"""

from __future__ import annotations

from pathlib import Path

import dkim
from flask import Flask, current_app
from publicsuffixlist import PublicSuffixList

from newsletter.mailing.mime import DotSafe

SIGNED_HEADERS = (
    b"from", b"to", b"subject", b"date", b"message-id", b"reply-to", b"mime-version",
    b"content-type", b"content-language", b"list-id", b"list-unsubscribe",
    b"list-unsubscribe-post", b"list-archive", b"list-post", b"archived-at",
    b"feedback-id", b"precedence", b"auto-submitted",
)  # fmt: skip
# Listed once more than they occur: the signature also covers their absence below.
OVERSIGNED = (b"from", b"subject")
_EXTENSION = "newsletter.dkim_signer"


class DKIMSigner:
    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.private_key = private_key

    def signature(self, message: bytes) -> bytes:
        """The ``DKIM-Signature`` header line(s) to put in front of ``message``."""
        present = {line.split(b":", 1)[0].strip().lower() for line in _header_lines(message)}
        headers = [name for name in SIGNED_HEADERS if name in present]
        headers += [name for name in OVERSIGNED if name in present]
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


def organisational_domain(domain: str) -> str:
    """The registrable domain (``news.example.co.uk`` → ``example.co.uk``), from the
    Public Suffix List shipped with ``publicsuffixlist``."""
    domain = domain.lower().rstrip(".")
    return PublicSuffixList().privatesuffix(domain) or domain


def check_alignment(dkim_domain: str, from_domain: str) -> None:
    """Refuse a signing domain that DMARC's relaxed alignment would not match with the
    From domain (both must share one organisational domain)."""
    ours, theirs = organisational_domain(dkim_domain), organisational_domain(from_domain)
    if ours != theirs:
        raise RuntimeError(
            f"NEWSLETTER_DKIM_DOMAIN {dkim_domain!r} does not align with the From domain "
            f"{from_domain!r} (NEWSLETTER_MAIL_DEFAULT_SENDER): DMARC counts a signature "
            "only when its domain shares the From address's organisational domain "
            f"({theirs!r}; relaxed alignment), so receivers would treat the mail as "
            f"unsigned. Sign with {from_domain!r} or a parent of it."
        )


def _build(app: Flask) -> DKIMSigner | None:
    config = app.config
    if not (config["DKIM_DOMAIN"] or config["DKIM_SELECTOR"]):
        return None
    if not (config["DKIM_DOMAIN"] and config["DKIM_SELECTOR"]):
        raise RuntimeError("DKIM needs both NEWSLETTER_DKIM_DOMAIN and NEWSLETTER_DKIM_SELECTOR")
    key = config["DKIM_PRIVATE_KEY"]
    if not key and config["DKIM_PRIVATE_KEY_FILE"]:
        try:
            key = Path(config["DKIM_PRIVATE_KEY_FILE"]).read_text()
        except OSError as exc:
            raise RuntimeError(f"NEWSLETTER_DKIM_PRIVATE_KEY_FILE cannot be read: {exc}") from exc
    if not key:
        raise RuntimeError("DKIM is configured without a key: set NEWSLETTER_DKIM_PRIVATE_KEY_FILE")
    check_alignment(str(config["DKIM_DOMAIN"]), str(config["SENDER_DOMAIN"]))
    signer = DKIMSigner(config["DKIM_DOMAIN"], config["DKIM_SELECTOR"], str(key).encode())
    try:
        signer.signature(b"From: a@example.org\r\nSubject: key check\r\n\r\nx\r\n")
    except dkim.DKIMException as exc:
        raise RuntimeError(f"the DKIM private key cannot sign: {exc}") from exc
    return signer


def init_app(app: Flask) -> None:
    """Build the signer once (reading and trying the key), or refuse to start."""
    app.extensions[_EXTENSION] = _build(app)


def signer_for(app: Flask) -> DKIMSigner | None:
    """The signer the configuration asks for, or None (DKIM off)."""
    return app.extensions.get(_EXTENSION)


def sign(message: bytes) -> bytes:
    """``message`` with a signature in front when DKIM is configured; as it is if not."""
    signer = signer_for(current_app._get_current_object())  # type: ignore[attr-defined]
    if signer is None:
        return message
    signed = signer.sign(message)
    # Its header lines start with a name or a space: a dot-safe message stays one.
    return DotSafe(signed) if isinstance(message, DotSafe) else signed
