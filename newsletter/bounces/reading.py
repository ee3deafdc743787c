"""Reading a message that came back: what it is and what it names.

A message is one of: a delivery status notification (RFC 3464, or the prose that many
MTAs send instead, read by ``flufl.bounce``), a complaint (RFC 5965 ARF), an
unsubscribe request sent to our ``mailto:``, an auto-reply (RFC 3834, vacation
notices), something else (a reader's reply), or nothing readable at all. Reading
never touches the database; ``inbound`` decides what to do with it.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr
from typing import Literal

from newsletter.bounces.prose import (
    FAILURE_CODE_RE,
    MAIL_SYSTEM_RE,
    Action,
    Finding,
    looks_like_bounce,
    near,
    read_prose,
    server_words,
    smtp_code,
    status_of,
    unnamed,
)

Kind = Literal["report", "bounce", "complaint", "unsubscribe", "auto_reply", "other", "unreadable"]

_OUR_MESSAGE_ID_RE = re.compile(rb"<[0-9a-f]{16}\.d\d{1,19}\.[0-9a-f]{16}@[^>\s]{1,255}>", re.I)
_VERP_RE = re.compile(rb"bounces\+s?\d{1,19}-[0-9a-z]{1,40}@[a-z0-9.-]{1,255}", re.I)
_UNSUBSCRIBE_RE = re.compile(r"^\s*unsubscribe\b\s*([\w.-]{10,200})?", re.I)
_ENVELOPE_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_AUTO_REPLY_BODY_RE = re.compile(
    r"out of (the )?office|on (vacation|holiday|leave)|automatic reply|auto-?reply|"
    r"away from (the office|my desk)|will be back|limited access to (my )?e-?mail",
    re.I,
)
_AUTO_REPLY_SUBJECT_RE = re.compile(
    r"out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|autoreply|"
    r"vacation|away from|abwesenheit|absence|respuesta autom|r[ée]ponse automatique|^auto:|"
    r"automati(c|sk)a? atbilde|atva[lļ]in[aā]jum",
    re.I,
)


@dataclass
class Reading:
    kind: Kind
    findings: list[Finding] = field(default_factory=list)
    envelope_to: list[str] = field(default_factory=list)  # where this message was sent
    verp_addresses: list[str] = field(default_factory=list)  # VERP-shaped, anywhere in it
    message_ids: list[str] = field(default_factory=list)  # our Message-IDs, anywhere in it
    sender: str = ""
    subject: str = ""
    feedback_type: str = ""
    token: str | None = None  # an unsubscribe request's token
    auto_submitted: bool = False
    truncated: bool = False


def read_message(raw: bytes, unsubscribe_address: str, limit: int) -> Reading:
    """What ``raw`` is. Only its first ``limit`` bytes are read (a report and the
    headers it returns come first; a 20 MB returned attachment does not matter)."""
    truncated = len(raw) > limit
    data = raw[:limit]
    if not data.strip():
        return Reading("unreadable")
    try:
        message = email.message_from_bytes(data, policy=email.policy.compat32)
    except Exception:  # the parser is lenient; anything it cannot take is unreadable
        return Reading("unreadable")
    if not message.keys():
        return Reading("unreadable")
    reading = Reading(
        "other",
        envelope_to=_envelope(message),
        verp_addresses=sorted({m.decode("ascii", "replace") for m in _VERP_RE.findall(data)}),
        message_ids=sorted(
            {m.decode("ascii", "replace") for m in _OUR_MESSAGE_ID_RE.findall(data)}
        ),
        sender=parseaddr(_text(message.get("From")))[1],
        subject=" ".join(_text(message.get("Subject")).split())[:300],
        auto_submitted=_auto_submitted(message),
        truncated=truncated,
    )
    _classify(message, reading, unsubscribe_address)
    return reading


def _classify(message: Message, reading: Reading, unsubscribe_address: str) -> None:
    report_type = (message.get_param("report-type") or "").lower()  # type: ignore[union-attr]
    parts = list(message.walk())
    types = {part.get_content_type() for part in parts}
    if "message/feedback-report" in types or report_type == "feedback-report":
        reading.kind = "complaint"
        _read_feedback(parts, reading)
        return
    if types & {"message/delivery-status", "message/global-delivery-status"}:
        reading.kind = "report"
        reading.findings = _read_dsn(parts)
        if reading.findings:
            return
    if _is_unsubscribe(message, reading, unsubscribe_address):
        reading.kind = "unsubscribe"
        return
    auto_reply = _AUTO_REPLY_SUBJECT_RE.search(reading.subject) or _AUTO_REPLY_BODY_RE.search(
        _first_text(message)[:600]
    )
    bounce = looks_like_bounce(message, reading.sender, reading.subject, reading.auto_submitted)
    if bounce and not auto_reply:
        reading.kind = "bounce"
        reading.findings = read_prose(message) or [unnamed(message)]
        return
    if reading.auto_submitted or auto_reply:
        reading.kind = "auto_reply"
        return
    if reading.kind == "report":  # a report with no recipient in it: keep it for staff
        reading.kind = "other"


# -- headers ---------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        return str(value)


def _envelope(message: Message) -> list[str]:
    found: list[str] = []
    for name in _ENVELOPE_HEADERS:
        for _, address in getaddresses([str(v) for v in message.get_all(name) or []]):
            if address and address not in found:
                found.append(address)
    return found


def _auto_submitted(message: Message) -> bool:
    """RFC 3834 ``Auto-Submitted`` (anything but "no"), and the older vacation marks."""
    auto = str(message.get("Auto-Submitted") or "").strip().lower()
    precedence = str(message.get("Precedence") or "").strip().lower()
    return (
        (bool(auto) and auto != "no")
        or precedence == "auto_reply"
        or any(message.get(name) for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"))
        or str(message.get("X-Auto-Response-Suppress") or "").lower() == "all"
    )


# -- reports (RFC 3464, RFC 5965) ---------------------------------------------------------


def _blocks(part: Message) -> list[Message]:
    """The field blocks of a delivery-status part (compat32 parses them as messages)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    return [email.message_from_string(block) for block in re.split(r"\r?\n\s*\r?\n", text) if block]


def _address(value: object) -> str | None:
    """The address of a ``Final-Recipient: rfc822; a@b`` field."""
    text = str(value or "").strip()
    if ";" in text:
        text = text.split(";", 1)[1]
    address = parseaddr(text.strip())[1] or text.strip().strip("<>")
    return address if "@" in address else None


def _read_dsn(parts: list[Message]) -> list[Finding]:
    findings = []
    text = server_words(parts)
    for part in parts:
        if part.get_content_type() not in (
            "message/delivery-status",
            "message/global-delivery-status",
        ):
            continue
        for block in _blocks(part)[1:] or _blocks(part):
            action = str(block.get("Action") or "").strip().lower()
            recipient = block.get("Final-Recipient") or block.get("Original-Recipient")
            if not action and recipient is None:
                continue
            status_text = str(block.get("Status") or "")
            diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split())
            if ";" in diagnostic[:12]:
                diagnostic = diagnostic.split(";", 1)[1].strip()
            status = status_of(status_text) or status_of(diagnostic, FAILURE_CODE_RE)
            address = _address(block.get("Original-Recipient")) or _address(recipient)
            if not diagnostic and address:
                diagnostic = near(text, address)
            findings.append(
                Finding(
                    address=address,
                    action=_action(action, status),
                    status=status,
                    diagnostic=diagnostic[:1000],
                    smtp_code=smtp_code(diagnostic),
                )
            )
    return findings


def _action(action: str, status: str) -> Action:
    if action in ("failed", "delayed", "delivered", "relayed", "expanded"):
        return action  # type: ignore[return-value]
    return "delayed" if status.startswith("4.") else "failed"


def _read_feedback(parts: list[Message], reading: Reading) -> None:
    """The feedback type and who complained: ``Original-Rcpt-To``, else the To of the
    returned message."""
    addresses: list[str] = []
    for part in parts:
        if part.get_content_type() == "message/feedback-report":
            for block in _blocks(part):
                kind = str(block.get("Feedback-Type") or "").strip().lower()
                reading.feedback_type = reading.feedback_type or kind
                for name in ("Original-Rcpt-To", "Removal-Recipient"):
                    addresses += [_address(value) or "" for value in block.get_all(name) or []]
        elif part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            for returned in _returned(part):
                addresses += [address for _, address in getaddresses(returned.get_all("To") or [])]
    for address in dict.fromkeys(addresses):
        if "@" in address:
            reading.findings.append(Finding(address, "failed"))


def _returned(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [item for item in payload if isinstance(item, Message)]
    if isinstance(payload, str):
        return [email.message_from_string(payload)]
    return []


# -- unsubscribe requests ---------------------------------------------------------------


def _is_unsubscribe(message: Message, reading: Reading, unsubscribe_address: str) -> bool:
    if reading.auto_submitted or MAIL_SYSTEM_RE.match(reading.sender.split("@")[0]):
        return False
    to_us = unsubscribe_address.lower() in (a.lower() for a in reading.envelope_to)
    match = _UNSUBSCRIBE_RE.match(reading.subject) or _UNSUBSCRIBE_RE.match(_first_text(message))
    if not (to_us or (match and match.group(1))):
        return False
    reading.token = match.group(1) if match else None
    return True


def _first_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload[:2000].decode("utf-8", "replace")
    return ""
