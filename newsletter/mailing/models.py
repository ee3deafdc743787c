"""Transactional mail waiting to leave (the outbox pattern).

A message is written in the same transaction as the change that caused it, so it
exists exactly when that change was committed; it is sent after the commit and
retried until the server takes it. Sent messages are deleted.
"""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.dbtypes import UTCDateTime, enum_column
from newsletter.extensions import Model
from newsletter.timeutil import utcnow


class OutgoingStatus(enum.StrEnum):
    QUEUED = "queued"
    FAILED = "failed"


class OutgoingMail(Model):
    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    envelope_from: Mapped[str] = mapped_column(sa.String(254))
    recipient: Mapped[str] = mapped_column(sa.String(254), index=True)
    message: Mapped[bytes] = mapped_column(sa.LargeBinary)
    status: Mapped[OutgoingStatus] = mapped_column(
        enum_column(OutgoingStatus), default=OutgoingStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
