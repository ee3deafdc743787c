"""Mail that came back: each message read once (``InboundMessage``, which makes
processing idempotent), and what it told us about a subscriber (``MailEvent``: the
history the subscriber page and the dashboard show)."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.dbtypes import UTCDateTime, enum_column
from newsletter.extensions import Model
from newsletter.timeutil import utcnow


class EventKind(enum.StrEnum):
    HARD_BOUNCE = "hard_bounce"  # the address is gone: mail stopped
    SOFT_BOUNCE = "soft_bounce"  # transient (or unknown): counted
    REJECTED = "rejected"  # the receiver refused us, not the subscriber: an alert for staff
    COMPLAINT = "complaint"  # marked as spam (ARF): mail stopped
    UNSUBSCRIBED = "unsubscribed"  # a mailto unsubscribe with our token
    UNSUBSCRIBE_ASKED = "unsubscribe_asked"  # one without a token: a confirmation was sent
    AUTO_REPLY = "auto_reply"  # vacation notices and other automatic answers
    DELAYED = "delayed"  # a delay notice (Action: delayed)
    DELIVERED = "delivered"  # a success notice (delivered, relayed): resets the count


class InboundOutcome(enum.StrEnum):
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    UNSUBSCRIBE = "unsubscribe"
    AUTO_REPLY = "auto_reply"
    NOTICE = "notice"  # a delay or success notice
    FORWARDED = "forwarded"  # a reply, sent on to INBOUND_FORWARD_TO
    KEPT = "kept"  # a reply, kept for staff
    UNMATCHED = "unmatched"  # about no one we mail (or forged)
    UNREADABLE = "unreadable"
    DELETED = "deleted"  # kept, then deleted by staff: only the fingerprint is left


class InboundMessage(Model):
    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the message: the same message read twice changes nothing the second time
    fingerprint: Mapped[str] = mapped_column(sa.String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    origin: Mapped[str] = mapped_column(sa.String(16))  # file, stdin, imap, pop3
    outcome: Mapped[InboundOutcome] = mapped_column(enum_column(InboundOutcome))
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # what was done (no address)
    size: Mapped[int] = mapped_column(default=0)
    # Only for kept messages (a reader's reply for staff): who wrote, what, and the bytes.
    sender_key: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300), default="")
    raw: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # Staff dealt with it (a kept reply, an alert): off the list of what needs attention.
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailEvent(Model):
    __tablename__ = "mail_events"
    __table_args__ = (
        sa.Index("ix_mail_events_subscriber_at", "subscriber_id", "at"),
        sa.Index("ix_mail_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Erasing a subscriber erases their events (the diagnostics quote the address).
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="CASCADE")
    )
    delivery_id: Mapped[int | None] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("deliveries.id", ondelete="SET NULL"),
    )
    digest_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("digests.id", ondelete="SET NULL"), index=True
    )
    inbound_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("inbound_messages.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, length=20))
    status_code: Mapped[str] = mapped_column(sa.String(16), default="")  # "5.1.1"
    diagnostic: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[str] = mapped_column(sa.String(64), default="")  # "verp via imap", …
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
