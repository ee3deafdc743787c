"""Reading the bounces that are not RFC 3464 reports: the prose many MTAs and
providers write ("The following address(es) failed", "This is the mail system at
host …"). ``flufl.bounce`` finds the recipients; the status code and the server's
words are read from the text next to each, before the point where the bounce starts
quoting the returned message (whose words are ours, not the server's)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.utils import parseaddr
from typing import Literal

from flufl.bounce import all_failures

Action = Literal["failed", "delayed", "delivered", "relayed", "expanded"]

_ENHANCED_RE = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
FAILURE_CODE_RE = re.compile(r"(?<![\d.])([45])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
# Where a bounce starts quoting the message it returns: words after it are not the
# server's (a returned digest may well say "policy" or "spam").
_RETURNED_RE = re.compile(
    r"below (this|the next) line is a copy|original message (follows?|below)|"
    r"lines of (your|the) original message|-+ ?(original message|this is a copy|"
    r"message text follows|returned message|the header of the original)|"
    r"text of the returned message|^received: from ",
    re.IGNORECASE | re.MULTILINE,
)
_SMTP_CODE_RE = re.compile(r"(?<!\d)([245]\d\d)[ -](?=\S)")
MAIL_SYSTEM_RE = re.compile(
    r"^(mailer-daemon|postmaster|mail-daemon|mailer|mail\.?delivery|bounces?|"
    r"mdaemon|mmdf|smtp|root|exim|qmail|noreply-dmarc)\b",
    re.I,
)
_DAEMON_RE = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)$", re.I)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|undelivered|delivery (status|failure|notification|has failed|problem)|"
    r"returned mail|mail delivery|failure notice|non-?delivery|could not be delivered|"
    r"delivery failed|rejected|nicht zustellbar|unzustellbar|message not delivered|^mail error",
    re.I,
)


@dataclass
class Finding:
    """One recipient a report speaks of."""

    address: str | None
    action: Action
    status: str = ""  # RFC 3463 enhanced code ("5.1.1"), when the report gives one
    diagnostic: str = ""  # the remote server's words
    smtp_code: int | None = None


# -- prose bounces ------------------------------------------------------------------------


def looks_like_bounce(message: Message, sender: str, subject: str, auto_submitted: bool) -> bool:
    """Written by a mail system, not a person: a bounce sender, subject or empty
    return path (a person's vacation notice never counts as a bounce)."""
    return_path = parseaddr(str(message.get("Return-Path") or ""))[1]
    return bool(
        MAIL_SYSTEM_RE.match(sender.split("@", maxsplit=1)[0])
        or _DAEMON_RE.match(return_path.split("@")[0])
        or _BOUNCE_SUBJECT_RE.search(subject)
        or (str(message.get("Return-Path") or "").strip() == "<>" and not auto_submitted)
    )


def read_prose(message: Message) -> list[Finding]:
    """Recipients ``flufl.bounce`` finds, each with the status code and words found
    next to it in the text."""
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector tripping on odd input is no reason to lose the message
        return []
    text = server_words(list(message.walk()))
    findings = []
    for raw_address, action in [
        *((a, "failed") for a in sorted(permanent)),
        *((a, "delayed") for a in sorted(temporary - permanent)),
    ]:
        address = (
            raw_address.decode("utf-8", "replace")
            if isinstance(raw_address, bytes)
            else str(raw_address)
        )
        diagnostic = near(text, address)
        status = status_of(diagnostic, FAILURE_CODE_RE) or status_of(text, FAILURE_CODE_RE)
        findings.append(
            Finding(
                address=address if "@" in address else None,
                action=action,  # type: ignore[arg-type]
                status=status,
                diagnostic=diagnostic,
                smtp_code=smtp_code(diagnostic),
            )
        )
    return findings


def unnamed(message: Message) -> Finding:
    """A bounce in which no recipient could be found: the server's words alone (the
    VERP address it came back to may still say whom it is about)."""
    text = server_words(list(message.walk()))
    status = status_of(text, FAILURE_CODE_RE)
    return Finding(None, "failed", status, " ".join(text.split())[:1000], smtp_code(text))


def server_words(parts: list[Message]) -> str:
    """The text parts of a bounce up to where it quotes the returned message."""
    chunks = []
    for part in parts:
        if part.get_content_maintype() == "text" and part.get_content_subtype() != "rfc822-headers":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                chunks.append(payload[:200_000].decode("utf-8", "replace"))
        elif part.get_content_type() == "message/rfc822":
            break  # the returned message follows: its words are ours, not the server's
    text = "\n".join(chunks)
    returned = _RETURNED_RE.search(text)
    return text[: returned.start()] if returned else text


_WINDOWS = 3  # mentions of an address read for its reason


def near(text: str, address: str) -> str:
    """The lines around each mention of ``address`` (the line before it and three after):
    where MTAs put the reason."""
    lines = text.splitlines()
    local = address.lower().split("@")[0]
    windows = []
    for index, line in enumerate(lines):
        if local and local in line.lower():
            windows.append(" ".join(lines[max(0, index - 1) : index + 4]))
            if len(windows) == _WINDOWS:
                break
    if not windows:
        return " ".join(text.split())[:500]
    return " ".join(" ".join(windows).split())[:1000]


def status_of(text: str, pattern: re.Pattern[str] = _ENHANCED_RE) -> str:
    match = pattern.search(text or "")
    return ".".join(match.groups()) if match else ""


def smtp_code(text: str) -> int | None:
    match = _SMTP_CODE_RE.search(text or "")
    return int(match.group(1)) if match else None
