"""What staff see of inbound mail: the readers' replies kept for them (when no forward
address is set) and the alerts (receivers that refused our mail, blaming us), each
marked handled once dealt with, or deleted.

A deleted reply keeps its row without its content: the fingerprint stays, so the same
message fetched again is recognised and not kept a second time.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa

from newsletter.bounces.models import EventKind, InboundMessage, InboundOutcome, MailEvent
from newsletter.extensions import db
from newsletter.timeutil import utcnow

REPLY = "reply"
ALERT = "alert"
_MAX_TEXT = 200_000


@dataclass(frozen=True)
class Item:
    message: InboundMessage
    kind: str  # REPLY or ALERT
    sender: str
    subject: str


def _is_alert() -> sa.ColumnElement[bool]:
    return sa.exists().where(
        MailEvent.inbound_id == InboundMessage.id, MailEvent.kind == EventKind.REJECTED
    )


def _shown() -> sa.ColumnElement[bool]:
    return sa.or_(InboundMessage.outcome == InboundOutcome.KEPT, _is_alert())


def items(*, include_handled: bool = False, limit: int = 200) -> list[Item]:
    """Replies and alerts, newest first (unhandled only, unless asked)."""
    query = sa.select(InboundMessage, _is_alert().label("alert")).where(
        _shown(), InboundMessage.outcome != InboundOutcome.DELETED
    )
    if not include_handled:
        query = query.where(InboundMessage.handled_at.is_(None))
    query = query.order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc()).limit(limit)
    return [_item(message, bool(alert)) for message, alert in db.session.execute(query)]


def get(message_id: int) -> Item | None:
    message = db.session.get(InboundMessage, message_id)
    if message is None or message.outcome == InboundOutcome.DELETED:
        return None
    alert = bool(db.session.scalar(sa.select(_is_alert()).where(InboundMessage.id == message_id)))
    if not alert and message.outcome != InboundOutcome.KEPT:
        return None
    return _item(message, alert)


def _item(message: InboundMessage, alert: bool) -> Item:
    if alert:
        return Item(message, ALERT, "a receiving mail server", "Our mail was refused")
    return Item(
        message, REPLY, message.sender_key or "(no sender)", message.subject or "(no subject)"
    )


def unhandled_counts() -> dict[str, int]:
    """How many replies and alerts wait for staff."""
    alert = _is_alert()
    rows = db.session.execute(
        sa.select(alert, sa.func.count())
        .select_from(InboundMessage)
        .where(_shown(), InboundMessage.handled_at.is_(None))
        .where(InboundMessage.outcome != InboundOutcome.DELETED)
        .group_by(alert)
    )
    counts = {REPLY: 0, ALERT: 0}
    for is_alert, count in rows:
        counts[ALERT if is_alert else REPLY] += int(count)
    return counts


def text_of(item: Item) -> str:
    """What the message says, as plain text (never HTML to render: the caller escapes
    it). A reply: its text part (or its HTML part's source). An alert: what the
    receivers answered."""
    if item.kind == ALERT:
        events = db.session.scalars(
            sa.select(MailEvent)
            .where(MailEvent.inbound_id == item.message.id, MailEvent.kind == EventKind.REJECTED)
            .order_by(MailEvent.id)
        )
        lines = [item.message.summary]
        lines += [f"{event.status_code or '(no code)'}: {event.diagnostic}" for event in events]
        return "\n".join(line for line in lines if line)
    raw = item.message.raw or b""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(parsed, EmailMessage):
        return raw.decode("utf-8", "replace")[:_MAX_TEXT]
    body = parsed.get_body(preferencelist=("plain", "html"))
    if body is None:
        return "(This message has no text part.)"
    try:
        text = body.get_content()
    except (LookupError, ValueError):
        payload = body.get_payload(decode=True)
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if body.get_content_subtype() == "html":
        text = "(Only an HTML part; its source, as text:)\n\n" + text
    return str(text)[:_MAX_TEXT]


def mark_handled(message: InboundMessage) -> None:
    if message.handled_at is None:
        message.handled_at = utcnow()
    db.session.flush()


def delete(message: InboundMessage) -> None:
    """Remove what a kept reply says and who sent it; an alert is marked handled (its
    events stay in the subscribers' and the send's history)."""
    message.handled_at = message.handled_at or utcnow()
    if message.outcome == InboundOutcome.KEPT:
        message.raw = None
        message.subject = ""
        message.sender_key = None
        message.outcome = InboundOutcome.DELETED
    db.session.flush()
