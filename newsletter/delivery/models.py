"""One delivery record per recipient of a digest: the send's memory.

The audience is frozen into these rows when a send starts. A row is marked ``sent``
only after the SMTP server accepted the message, in its own commit, so a crash can
repeat at most the messages in flight (one per open connection).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.dbtypes import UTCDateTime, enum_column
from newsletter.extensions import Model


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting to be sent
    SENDING = "sending"  # claimed by a worker (``claimed_by``, ``claimed_at``)
    RETRY = "retry"  # refused for now (4xx, lost connection): due at ``next_attempt_at``
    SENT = "sent"  # the server accepted it
    FAILED = "failed"  # refused for good (5xx) or out of attempts
    SKIPPED = "skipped"  # the subscriber left (or was erased) before their turn
    CANCELLED = "cancelled"  # the send was cancelled before their turn


# Deliveries that still have to happen.
OPEN_STATUSES = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.RETRY)


class Delivery(Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("digest_id", "subscriber_id", name="uq_deliveries_digest_subscriber"),
        sa.Index("ix_deliveries_digest_status", "digest_id", "status", "next_attempt_at"),
        # Only for the rate of the last minute (``sent_at >= …``): rows not sent yet are
        # left out, so freezing an audience of a million writes nothing into it.
        sa.Index(
            "ix_deliveries_digest_sent_at",
            "digest_id",
            "sent_at",
            postgresql_where=sa.text("sent_at IS NOT NULL"),
            sqlite_where=sa.text("sent_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True
    )
    digest_id: Mapped[int] = mapped_column(sa.ForeignKey("digests.id", ondelete="CASCADE"))
    # Kept (as NULL) when a subscriber is erased, so the send's figures stay right.
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="SET NULL")
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus), default=DeliveryStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_response: Mapped[str] = mapped_column(sa.Text, default="")
