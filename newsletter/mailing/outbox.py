"""Reading the local outbox (the Maildir the embedded default delivers to)."""

from __future__ import annotations

import email
import email.parser
import email.policy
import mailbox
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

_KEY_RE = re.compile(r"^[\w.,:=-]{1,200}$")


@dataclass(frozen=True)
class OutboxEntry:
    key: str
    to: str
    subject: str
    date: str
    sort_key: float


@dataclass(frozen=True)
class OutboxMessage:
    key: str
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    raw: bytes


def _maildir(path: str | Path) -> mailbox.Maildir:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return mailbox.Maildir(str(path), create=True)


def list_messages(path: str | Path, limit: int = 200) -> list[OutboxEntry]:
    """The newest ``limit`` messages, newest first."""
    box = _maildir(path)
    entries = []
    for key in box.iterkeys():
        with box.get_file(key) as handle:
            head = handle.read(64 * 1024).split(b"\r\n\r\n", 1)[0]
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(head)
        try:
            sort_key = parsedate_to_datetime(str(headers["Date"])).timestamp()
        except (TypeError, ValueError):
            sort_key = 0.0
        entries.append(
            OutboxEntry(
                key=key,
                to=str(headers.get("Delivered-To") or headers.get("To") or ""),
                subject=str(headers.get("Subject") or "(no subject)"),
                date=str(headers.get("Date") or ""),
                sort_key=sort_key,
            )
        )
    entries.sort(key=lambda entry: (entry.sort_key, entry.key), reverse=True)
    return entries[:limit]


def read_message(path: str | Path, key: str) -> OutboxMessage | None:
    if not _KEY_RE.match(key):
        return None
    box = _maildir(path)
    try:
        with box.get_file(key) as handle:
            raw = handle.read()
    except KeyError:
        return None
    message = email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return OutboxMessage(
        key=key,
        headers=[(name, str(value)) for name, value in message.items()],
        text=text.get_content() if text is not None else None,
        html=html.get_content() if html is not None else None,
        raw=raw,
    )


def clear(path: str | Path) -> int:
    box = _maildir(path)
    keys = list(box.iterkeys())
    for key in keys:
        box.discard(key)
    return len(keys)


def discard_mentioning(path: str | Path, address: str) -> int:
    """Remove every message that names ``address`` (an ASCII address, any case): what
    erasing a person must not leave in the outbox. Returns how many went."""
    needle = address.lower().encode("ascii")
    box = _maildir(path)
    gone = 0
    for key in list(box.iterkeys()):
        try:
            with box.get_file(key) as handle:
                found = needle in handle.read().lower()
        except KeyError:  # removed meanwhile
            continue
        if found:
            box.discard(key)
            gone += 1
    return gone
