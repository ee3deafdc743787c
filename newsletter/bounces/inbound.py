"""Processing mail that comes back: each message is read, matched, acted on and
recorded once.

``process_message`` is the service (it flushes, never commits; ``runner`` commits each
message). The same message processed twice changes nothing the second time (its
sha256 is kept).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter import mailing
from newsletter.bounces import matching, policy
from newsletter.bounces.kinds import failure_kind
from newsletter.bounces.models import EventKind, InboundMessage, InboundOutcome, MailEvent
from newsletter.bounces.reading import Finding, Reading, read_message
from newsletter.extensions import db
from newsletter.subscriptions import services
from newsletter.subscriptions.emails import send_unsubscribe_confirmation
from newsletter.subscriptions.models import SubscriberStatus
from newsletter.timeutil import utcnow
from newsletter.tokens import BadToken, Purpose, read_token
from newsletter.validation import InvalidInput, normalize_address

_FAILURE_EVENTS = {
    "gone": EventKind.HARD_BOUNCE,
    "transient": EventKind.SOFT_BOUNCE,
    "unknown": EventKind.SOFT_BOUNCE,
    "ours": EventKind.REJECTED,
}
_NOTICES = {"delayed": EventKind.DELAYED, "delivered": EventKind.DELIVERED}
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
DUPLICATE = "duplicate"
ERROR = "error"


@dataclass
class Result:
    outcome: str  # an InboundOutcome value, or "duplicate" / "error"
    events: list[EventKind] = field(default_factory=list)
    summary: str = ""


@dataclass
class Summary:
    """What a run read, for the command line and the logs."""

    outcomes: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)

    def add(self, result: Result) -> None:
        self.outcomes[result.outcome] += 1
        self.events.update(event.value for event in result.events)

    @property
    def read(self) -> int:
        return sum(self.outcomes.values())

    def lines(self) -> list[str]:
        o, e = self.outcomes, self.events
        return [
            f"Read {self.read} message(s).",
            f"Bounces: {e['hard_bounce']} gone, {e['soft_bounce']} transient, "
            f"{e['rejected']} refusing us (alerts, not counted).",
            f"Complaints: {e['complaint']}. Unsubscribes: {e['unsubscribed']} done, "
            f"{e['unsubscribe_asked']} asked to confirm.",
            f"Auto-replies: {e['auto_reply']}. Delay notices: {e['delayed']}. "
            f"Success notices: {e['delivered']}.",
            f"Forwarded: {o['forwarded']}. Kept for staff: {o['kept']}. About no one we mail: "
            f"{o['unmatched']}. Unreadable: {o['unreadable']}. Seen before: {o[DUPLICATE]}."
            + (f" Failed (left to retry): {o[ERROR]}." if o[ERROR] else ""),
        ]


def fingerprint(raw: bytes) -> str:
    return hashlib.sha256(raw.replace(b"\r\n", b"\n").rstrip()).hexdigest()


def process_message(
    raw: bytes, origin: str, envelope_to: Sequence[str] = (), now: datetime | None = None
) -> Result:
    """Read one message and act on it; ``envelope_to`` is the address it was delivered to
    when the caller knows it (an MTA's ``ORIGINAL_RECIPIENT``)."""
    now = now or utcnow()
    digest = fingerprint(raw)
    if db.session.scalar(sa.select(InboundMessage.id).where(InboundMessage.fingerprint == digest)):
        return Result(DUPLICATE, summary="seen before: nothing changed")
    config = current_app.config
    reading = read_message(raw, str(config["UNSUBSCRIBE_MAILTO"]), int(config["INBOUND_MAX_BYTES"]))
    row = InboundMessage(fingerprint=digest, origin=origin[:16], size=len(raw), received_at=now)
    row.outcome = InboundOutcome.UNREADABLE
    db.session.add(row)
    db.session.flush()
    handler = _HANDLERS.get(reading.kind, _other)
    result = handler(reading, row, list(envelope_to), raw, now)
    row.outcome = InboundOutcome(result.outcome)
    row.summary = result.summary[:2000]
    return result


# -- handlers ---------------------------------------------------------------------------


def _unreadable(_reading: Reading, _row: InboundMessage, *_: object) -> Result:
    return Result(InboundOutcome.UNREADABLE, summary="not an email message")


def _report(
    reading: Reading, row: InboundMessage, envelope: list[str], _raw: bytes, now: datetime
) -> Result:
    found = matching.match(reading, envelope)
    if not found.pairs:
        return Result(InboundOutcome.UNMATCHED, summary=f"a report about {found.reason}")
    events, done = [], []
    for target, finding in found.pairs:
        kind, status, diagnostic = _event_of(finding)
        events.append(kind)
        done.append(
            policy.record(
                target, kind, status=status, diagnostic=diagnostic,
                source=f"{target.how} via {row.origin}", inbound_id=row.id, now=now,
            )
        )  # fmt: skip
    failed = any(kind not in _NOTICES.values() for kind in events)
    outcome = InboundOutcome.BOUNCE if failed else InboundOutcome.NOTICE
    return Result(
        outcome, events, "; ".join(f"{e.value}: {d}" for e, d in zip(events, done, strict=True))
    )


def _event_of(finding: Finding | None) -> tuple[EventKind, str, str]:
    if finding is None:
        return EventKind.SOFT_BOUNCE, "", "a report that says nothing more"
    if finding.action in ("delayed",):
        return EventKind.DELAYED, finding.status, finding.diagnostic
    if finding.action in ("delivered", "relayed", "expanded"):
        return EventKind.DELIVERED, finding.status, finding.diagnostic
    kind = failure_kind(finding.status, finding.diagnostic)
    return _FAILURE_EVENTS[kind], finding.status, finding.diagnostic


def _complaint(
    reading: Reading, row: InboundMessage, envelope: list[str], _raw: bytes, now: datetime
) -> Result:
    if reading.feedback_type == "not-spam":
        return Result(InboundOutcome.UNMATCHED, summary="a not-spam report: nothing to do")
    found = matching.match(reading, envelope)
    if not found.pairs:
        return Result(InboundOutcome.UNMATCHED, summary=f"a complaint about {found.reason}")
    kind = EventKind.REJECTED if reading.feedback_type == "auth-failure" else EventKind.COMPLAINT
    done = [
        policy.record(
            target, kind, diagnostic=f"feedback type {reading.feedback_type or 'abuse'}",
            source=f"{target.how} via {row.origin}", inbound_id=row.id, now=now,
        )
        for target, _ in found.pairs
    ]  # fmt: skip
    return Result(InboundOutcome.COMPLAINT, [kind] * len(done), "; ".join(done))


def _auto_reply(
    reading: Reading, row: InboundMessage, envelope: list[str], _raw: bytes, now: datetime
) -> Result:
    found = matching.match(reading, envelope)
    for target, _ in found.pairs:
        policy.record(
            target, EventKind.AUTO_REPLY, diagnostic=reading.subject,
            source=f"{target.how} via {row.origin}", inbound_id=row.id, now=now,
        )  # fmt: skip
    events = [EventKind.AUTO_REPLY] * len(found.pairs)
    return Result(InboundOutcome.AUTO_REPLY, events, "an automatic reply: never a failure")


def _unsubscribe(
    reading: Reading, row: InboundMessage, _envelope: list[str], _raw: bytes, now: datetime
) -> Result:
    subscriber = None
    if reading.token:
        try:
            subscriber = services.subscriber_by_public_id(
                read_token(Purpose.UNSUBSCRIBE, reading.token)
            )
        except BadToken:
            subscriber = None
    if subscriber is not None:
        services.unsubscribe(
            subscriber, services.Origin(), note="unsubscribe email (mailto)", now=now
        )
        _event(subscriber.id, EventKind.UNSUBSCRIBED, row, now, "with our token")
        return Result(InboundOutcome.UNSUBSCRIBE, [EventKind.UNSUBSCRIBED], "unsubscribed")
    try:
        subscriber = services.subscriber_by_email(reading.sender) if reading.sender else None
    except InvalidInput:
        subscriber = None
    receiving = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)
    if subscriber is None or subscriber.status not in receiving:
        return Result(InboundOutcome.UNMATCHED, summary="an unsubscribe request from no subscriber")
    if _asked_recently(subscriber.id, now):
        return Result(InboundOutcome.UNSUBSCRIBE, summary="asked to confirm already, recently")
    send_unsubscribe_confirmation(subscriber)
    _event(subscriber.id, EventKind.UNSUBSCRIBE_ASKED, row, now, "no token: confirmation sent")
    return Result(InboundOutcome.UNSUBSCRIBE, [EventKind.UNSUBSCRIBE_ASKED], "asked to confirm")


def _asked_recently(subscriber_id: int, now: datetime) -> bool:
    since = now - timedelta(minutes=float(current_app.config["CONFIRM_RESEND_MINUTES"]))
    return (
        db.session.scalar(
            sa.select(MailEvent.id)
            .where(
                MailEvent.subscriber_id == subscriber_id,
                MailEvent.kind == EventKind.UNSUBSCRIBE_ASKED,
                MailEvent.at >= since,
            )
            .limit(1)
        )
        is not None
    )


def _event(
    subscriber_id: int, kind: EventKind, row: InboundMessage, now: datetime, text: str
) -> None:
    db.session.add(
        MailEvent(
            subscriber_id=subscriber_id, kind=kind, inbound_id=row.id, diagnostic=text,
            source=f"mailto via {row.origin}", at=now,
        )
    )  # fmt: skip


def _other(
    reading: Reading, row: InboundMessage, _envelope: list[str], raw: bytes, _now: datetime
) -> Result:
    """A reader's reply or anything else: forwarded to a person, or kept for staff."""
    subject = _CONTROL_RE.sub("", reading.subject)
    forward_to = current_app.config["INBOUND_FORWARD_TO"]
    sender = _valid_address(reading.sender)
    if forward_to and not reading.auto_submitted:
        mailing.forward_message(
            raw[: int(current_app.config["INBOUND_MAX_BYTES"])], str(forward_to), subject, sender
        )
        return Result(InboundOutcome.FORWARDED, summary="forwarded")
    row.raw = raw[: int(current_app.config["INBOUND_MAX_BYTES"])]
    row.subject = subject[:300]
    row.sender_key = sender.lower() if sender else None
    return Result(InboundOutcome.KEPT, summary="kept for staff")


def _valid_address(address: str) -> str | None:
    try:
        return normalize_address(address).email if address else None
    except InvalidInput:
        return None


_HANDLERS: dict[str, Callable[..., Result]] = {
    "unreadable": _unreadable,
    "report": _report,
    "bounce": _report,
    "complaint": _complaint,
    "auto_reply": _auto_reply,
    "unsubscribe": _unsubscribe,
    "other": _other,
}


def kept_messages(limit: int = 100) -> list[InboundMessage]:
    """Replies kept for staff, newest first."""
    query = (
        sa.select(InboundMessage)
        .where(InboundMessage.outcome == InboundOutcome.KEPT)
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
