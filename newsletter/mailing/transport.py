"""Where messages go: an SMTP relay, or the local outbox when no relay is configured.

Flask-Mail owns the SMTP settings (``MAIL_*``; it also honours ``MAIL_SUPPRESS_SEND``),
but messages are sent here as bytes we built and, when configured, signed: Flask-Mail
re-serialises a message on every send (breaking DKIM), opens sockets without a
timeout, and builds each copy with the slow ``email`` package.
"""

from __future__ import annotations

import logging
import mailbox
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, Self

from flask import Flask, current_app
from flask_mail import Mail

from newsletter.mailing.mime import DotSafe

log = logging.getLogger(__name__)

mail = Mail()

Scope = Literal["recipient", "message", "connection", "configuration"]

# SMTP reply codes (RFC 5321 4.2) the send loop tells apart.
OK = 250
WILL_FORWARD = 251
START_INPUT = 354
CLOSING = 421
_TEMPORARY = range(400, 500)
_ENVELOPE_STEPS = 3  # MAIL, RCPT, DATA

_ENHANCED_RE = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")
# Enhanced status codes by which a receiver blames the sender's setup (authentication,
# SPF/DKIM/DMARC alignment, relaying), not the recipient: Gmail 4.7.26-4.7.32 and
# 5.7.26, Microsoft 5.7.515, and the generic security codes.
_CONFIGURATION_CODES = {
    "5.7.0", "5.7.8", "5.7.9", "5.7.11", "5.7.14", "5.7.23", "5.7.25", "5.7.26",
    "5.7.27", "5.7.515", "4.7.0", "4.7.26", "4.7.27", "4.7.28", "4.7.29", "4.7.30",
    "4.7.31", "4.7.32",
}  # fmt: skip


# Words by which a server refuses us rather than a recipient ("Relay access denied"),
# whatever code it uses; an unknown mailbox (5.1.x) is the recipient's, even when the
# words say "User unknown in relay recipient table".
_BLAMES_US_RE = re.compile(
    r"relay(ing)? (access )?(denied|not permitted)|not permitted to relay|"
    r"authentication (is )?required|must authenticate",
    re.IGNORECASE,
)


# Refusals of the form of our own message, not of its recipient: syntax errors (500-504,
# 555), "line too long", "message too big" (X.3.4), media and content errors (X.6.x).
_OUR_FORM_CODES = {500, 501, 502, 503, 504, 555}
_OUR_FORM_RE = re.compile(
    r"line (is )?too long|too many (header|line)|message (size )?(is )?too (big|large)|"
    r"message size exceeds|exceeds (the )?(maximum|size)|size limit|syntax error|"
    r"header .{0,40}(invalid|malformed)|malformed|bare (lf|cr)|8-?bit",
    re.IGNORECASE,
)


class DeliveryError(Exception):
    """A message was not accepted.

    ``temporary`` errors may succeed later; ``scope`` says who is to blame: one
    recipient, this message, the connection, or our own configuration (which would
    fail every message alike and must stop a send rather than blame subscribers).
    ``ours`` marks a refusal of our message's form (a line too long, a message too
    big, a syntax error): never counted as the recipient's bounce.
    """

    def __init__(
        self, code: int | None, text: str, *, temporary: bool, scope: Scope, ours: bool = False
    ) -> None:
        super().__init__(f"{code or ''} {text}".strip())
        self.code = code
        self.text = text
        self.temporary = temporary
        self.scope: Scope = scope
        self.ours = ours


def classify(code: int, text: str, stage: str) -> DeliveryError:
    """Turn an SMTP reply at ``stage`` (connect, auth, mail, rcpt, data) into an error."""
    enhanced = _ENHANCED_RE.match(text)
    status = enhanced.group(0) if enhanced else ""
    temporary = code in _TEMPORARY
    scope: Scope = "recipient" if stage == "rcpt" else "message"
    if (
        stage in ("connect", "auth", "mail")
        or code in (530, 535, 538)
        or status in _CONFIGURATION_CODES
        or (not status.startswith(("5.1.", "4.1.")) and _BLAMES_US_RE.search(text))
    ):
        scope = "configuration"
    elif code == CLOSING:  # the server is closing the connection
        scope = "connection"
    ours = (
        code in _OUR_FORM_CODES
        or status.startswith(("5.3.4", "5.6.", "4.3.4", "5.5.", "4.6."))
        or (
            not status.startswith(("5.1.", "5.2.", "4.1.", "4.2."))
            and bool(_OUR_FORM_RE.search(text))
        )
    )
    return DeliveryError(code, text, temporary=temporary, scope=scope, ours=ours)


class Transport(Protocol):
    def send(self, envelope_from: str, recipient: str, message: bytes) -> str: ...

    def close(self) -> None: ...


@dataclass
class SMTPSettings:
    server: str
    port: int
    use_tls: bool
    use_ssl: bool
    username: str | None
    password: str | None
    timeout: float
    local_hostname: str | None
    max_per_connection: int = 0  # 0: no limit


class SMTPTransport:
    """One SMTP connection, opened on first use and reopened after it drops."""

    def __init__(self, settings: SMTPSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self._pipelining = False
        self._sent_here = 0  # messages on the current connection

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            smtp: smtplib.SMTP
            if s.use_ssl:
                smtp = smtplib.SMTP_SSL(
                    s.server,
                    s.port,
                    local_hostname=s.local_hostname,
                    timeout=s.timeout,
                    context=ssl.create_default_context(),
                )
            else:
                smtp = smtplib.SMTP(
                    s.server, s.port, local_hostname=s.local_hostname, timeout=s.timeout
                )
            smtp.ehlo_or_helo_if_needed()
            if s.use_tls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
        except smtplib.SMTPResponseException as exc:
            raise classify(exc.smtp_code, _text(exc.smtp_error), "connect") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                None, f"cannot connect: {exc}", temporary=True, scope="connection"
            ) from exc
        if s.username and s.password:
            try:
                smtp.login(s.username, s.password)
            except smtplib.SMTPResponseException as exc:
                smtp.close()
                raise classify(exc.smtp_code, _text(exc.smtp_error), "auth") from exc
        return smtp

    def send(self, envelope_from: str, recipient: str, message: bytes) -> str:
        """Send one message; return the server's acceptance line or raise DeliveryError.

        With PIPELINING (RFC 2920) the envelope commands go in one write and their
        replies are read together: two round trips a message instead of four. Either
        way there is only ever one message in flight on the connection.
        """
        for address in (envelope_from, recipient):
            if not address.isascii() or any(ch in address for ch in "\r\n<> "):
                raise DeliveryError(
                    None, f"unusable address {address!r}", temporary=False, scope="recipient"
                )
        smtp = self._connection()
        try:
            self._check_envelope(smtp, self._envelope(smtp, envelope_from, recipient))
            smtp.send(dot_stuff(message) + b".\r\n")
            code, reply = smtp.getreply()
            self._sent_here += 1
            if code != OK:
                raise classify(code, _text(reply), "data")
            return f"{code} {_text(reply)}"
        except DeliveryError as exc:
            if exc.scope == "connection":
                self.close()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            # The connection dropped or timed out mid-transaction: the message may or may
            # not have been accepted; the caller retries it.
            self.close()
            raise DeliveryError(
                None, f"connection lost: {exc}", temporary=True, scope="connection"
            ) from exc

    def _connection(self) -> smtplib.SMTP:
        """The open connection, or a new one (also after ``max_per_connection`` messages:
        relays cap messages per connection)."""
        limit = self.settings.max_per_connection
        if self._smtp is not None and limit and self._sent_here >= limit:
            self.close()
        if self._smtp is None:
            self._smtp = self._connect()
            self._pipelining = self._smtp.has_extn("pipelining")
            self._sent_here = 0
        return self._smtp

    def _envelope(
        self, smtp: smtplib.SMTP, envelope_from: str, recipient: str
    ) -> list[tuple[int, bytes]]:
        """The replies to MAIL, RCPT and DATA (pipelined when the server allows it; else
        one at a time, stopping at the first refusal)."""
        if self._pipelining:
            smtp.send(f"MAIL FROM:<{envelope_from}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
            return [smtp.getreply() for _ in range(_ENVELOPE_STEPS)]
        replies = [smtp.docmd("MAIL", f"FROM:<{envelope_from}>")]
        if replies[0][0] == OK:
            replies.append(smtp.docmd("RCPT", f"TO:<{recipient}>"))
        if replies[-1][0] in (OK, WILL_FORWARD):
            replies.append(smtp.docmd("DATA"))
        return replies

    @staticmethod
    def _check_envelope(smtp: smtplib.SMTP, replies: list[tuple[int, bytes]]) -> None:
        """Raise for the first refused step of MAIL, RCPT, DATA (after resetting)."""
        stages = ("mail", "rcpt", "data")
        expected = ((OK,), (OK, WILL_FORWARD), (START_INPUT,))
        for stage, accepted, (code, reply) in zip(stages, expected, replies, strict=False):
            if code not in accepted:
                if len(replies) == _ENVELOPE_STEPS and replies[2][0] == START_INPUT:
                    smtp.send(b".\r\n")  # a server that took DATA anyway: end it, unsent
                    smtp.getreply()
                smtp.rset()
                raise classify(code, _text(reply), stage)
        if len(replies) < _ENVELOPE_STEPS:  # pragma: no cover - a refused step raised above
            raise DeliveryError(None, "incomplete envelope", temporary=True, scope="connection")

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


class OutboxTransport:
    """The embedded default: a Maildir under the instance folder that staff read at /outbox.

    Each message gets ``Return-Path`` and ``Delivered-To`` headers, as a local
    delivery agent adds them, so the envelope stays visible.
    """

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(str(path), create=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, envelope_from: str, recipient: str, message: bytes) -> str:
        envelope = f"Return-Path: <{envelope_from}>\r\nDelivered-To: {recipient}\r\n"
        key = self.maildir.add(envelope.encode("ascii") + message)
        return f"250 stored in outbox as {key}"

    def close(self) -> None:
        pass


class SuppressedTransport:
    """``MAIL_SUPPRESS_SEND`` (Flask-Mail's switch): accept and drop everything."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def send(self, _envelope_from: str, recipient: str, _message: bytes) -> str:
        log.debug("mail to %s suppressed (MAIL_SUPPRESS_SEND)", recipient)
        return "250 suppressed"

    def close(self) -> None:
        pass


def init_app(app: Flask) -> None:
    mail.init_app(app)


def uses_outbox(app: Flask | None = None) -> bool:
    app = app or current_app
    return not app.config["MAIL_SERVER"]


def open_transport() -> SMTPTransport | OutboxTransport | SuppressedTransport:
    """The transport for the current app; use it as a context manager."""
    config = current_app.config
    if uses_outbox():
        return OutboxTransport(config["OUTBOX_DIR"])
    state = current_app.extensions["mail"]
    if state.suppress:
        return SuppressedTransport()
    return SMTPTransport(
        SMTPSettings(
            server=state.server,
            port=int(state.port),
            use_tls=bool(state.use_tls),
            use_ssl=bool(state.use_ssl),
            username=state.username,
            password=state.password,
            timeout=float(config["MAIL_TIMEOUT"]),
            local_hostname=config["MAIL_LOCAL_HOSTNAME"] or socket.getfqdn(),
            max_per_connection=int(config["SEND_MAX_PER_CONNECTION"] or 0),
        )
    )


def dot_stuff(message: bytes) -> bytes:
    """SMTP transparency (RFC 5321 4.5.2): double every line-leading dot; end with CRLF.
    A ``DotSafe`` message has none, and is not scanned again."""
    if isinstance(message, DotSafe):
        return message if message.endswith(b"\r\n") else message + b"\r\n"
    if message.startswith(b"."):
        message = b"." + message
    message = message.replace(b"\r\n.", b"\r\n..")
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    return message


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())
