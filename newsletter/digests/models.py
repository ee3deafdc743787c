"""Digests: an email composed of summary points from one or more sessions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.dbtypes import UTCDateTime, enum_column
from newsletter.extensions import Model
from newsletter.sessions.models import SummaryPoint
from newsletter.subscriptions.models import MailingList
from newsletter.timeutil import utcnow


class DigestStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # goes out at ``scheduled_at``
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


# Statuses in which the content may still change.
EDITABLE = frozenset({DigestStatus.DRAFT, DigestStatus.SCHEDULED})

digest_lists = sa.Table(
    "digest_lists",
    Model.metadata,
    sa.Column("digest_id", sa.ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("list_id", sa.ForeignKey("mailing_lists.id", ondelete="RESTRICT"), primary_key=True),
)


class Digest(Model):
    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Names the digest in Message-IDs and links; serial ids stay inside.
    public_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    # The archive address, given when the digest is sent.
    slug: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    subject: Mapped[str] = mapped_column(sa.String(200))
    preheader: Mapped[str] = mapped_column(sa.String(200), default="")
    intro: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown
    outro: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown
    status: Mapped[DigestStatus] = mapped_column(
        enum_column(DigestStatus), default=DigestStatus.DRAFT, index=True
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sending: when it started, how many were frozen into the audience, why it paused.
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audience_size: Mapped[int] = mapped_column(default=0)
    pause_reason: Mapped[str] = mapped_column(sa.Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the last one went
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Published in the public archive, home page and feed: chosen on the send page
    # (by default, when every target list is public); never once cancelled.
    in_archive: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The web version as it was sent: the archive shows it, whatever changes later.
    archived_html: Mapped[str | None] = mapped_column(sa.Text)
    archived_text: Mapped[str | None] = mapped_column(sa.Text)
    # {language: {"subject", "preheader", "intro", "outro"}}: the digest in languages
    # other than the default one (whose texts are the columns above).
    variants: Mapped[dict[str, dict[str, str]] | None] = mapped_column(sa.JSON)
    # {language: {"html", "text"}}: each variant's web version as it was sent.
    archived_variants: Mapped[dict[str, dict[str, str]] | None] = mapped_column(sa.JSON)

    items: Mapped[list[DigestItem]] = relationship(
        back_populates="digest",
        order_by="(DigestItem.position, DigestItem.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    lists: Mapped[list[MailingList]] = relationship(
        secondary=digest_lists, order_by=MailingList.name
    )

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE


class DigestItem(Model):
    """One quoted summary point; ``text`` overrides the point's words in this digest only."""

    __tablename__ = "digest_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(
        sa.ForeignKey("digests.id", ondelete="CASCADE"), index=True
    )
    point_id: Mapped[int] = mapped_column(
        sa.ForeignKey("summary_points.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    text_override: Mapped[str | None] = mapped_column(sa.Text)
    # {language: text}: the item's words in each variant (started from the point's
    # translation).
    translations: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)

    digest: Mapped[Digest] = relationship(back_populates="items")
    point: Mapped[SummaryPoint] = relationship()

    @property
    def text(self) -> str:
        return self.text_override if self.text_override is not None else self.point.text
