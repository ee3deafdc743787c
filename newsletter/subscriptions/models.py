"""Lists, subscribers, their memberships, consent evidence and the suppression list."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.dbtypes import UTCDateTime, enum_column
from newsletter.extensions import Model
from newsletter.timeutil import utcnow


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"  # asked to subscribe, has not confirmed yet
    ACTIVE = "active"  # confirmed (or added with recorded consent): gets mail
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"  # hard bounces past the threshold: no more mail
    COMPLAINED = "complained"  # marked a message as spam: no more mail


class SubscriberSource(enum.StrEnum):
    """How a subscriber first came to us (kept for the staff filters, never changed)."""

    FORM = "form"  # the public subscribe form
    IMPORT = "import"  # a CSV import (command line or browser)
    CLI = "cli"  # ``subscribers add``
    REPORT = "report"  # the box on a detailed report request
    STAFF = "staff"  # added by an admin in the browser


class ConsentAction(enum.StrEnum):
    REQUESTED = "requested"  # the subscribe form was sent
    CONFIRMED = "confirmed"  # the confirmation link was used
    ADDED = "added"  # added by staff or the CLI, with a consent note
    IMPORTED = "imported"  # imported from a file, with a consent note
    CHANGED = "changed"  # lists changed on the preferences page
    UNSUBSCRIBED = "unsubscribed"


class MailingList(Model):
    __tablename__ = "mailing_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    is_public: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An archived list is offered nowhere and cannot be sent to; its history stays.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Subscriber(Model):
    __tablename__ = "subscribers"
    __table_args__ = (
        sa.Index("ix_subscribers_created", "created_at", "id"),
        sa.Index("ix_subscribers_status_created", "status", "created_at", "id"),
        sa.Index("ix_subscribers_source_created", "source", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The identifier inside signed links; serial ids never leave the database.
    public_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(sa.String(254))
    # Lower-cased address: one subscriber per address, whatever its case.
    email_key: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    # A tag of LANGUAGES (``fa-AF``): the language of their pages and mail. Empty: the
    # site's default language.
    language: Mapped[str] = mapped_column(sa.String(35), default="", server_default="")
    status: Mapped[SubscriberStatus] = mapped_column(
        enum_column(SubscriberStatus), default=SubscriberStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_score: Mapped[float] = mapped_column(default=0.0)
    # What an anonymous form post asked for a subscriber we knew already (name,
    # organisation, list ids): applied only when the owner confirms from their mailbox.
    held_changes: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    source: Mapped[SubscriberSource] = mapped_column(
        enum_column(SubscriberSource), default=SubscriberSource.FORM
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", passive_deletes=True
    )


# The indexes the staff list's searches use, made by the migration on PostgreSQL only
# (pattern and trigram operator classes, so that neither a prefix nor a substring search
# reads the whole table; SQLite has neither). The queries spell their expressions
# exactly so (``newsletter.subscriptions.directory``).
POSTGRESQL_ONLY_INDEXES = (
    "ix_subscribers_email_prefix",  # (email_key text_pattern_ops)
    "ix_subscribers_name_prefix",  # (lower(name) text_pattern_ops)
    "ix_subscribers_organisation_prefix",  # (lower(organisation) text_pattern_ops)
    "ix_subscribers_search_trgm",  # gin ((email_key || ' ' || lower(name) || ...) trgm)
)


class Membership(Model):
    __tablename__ = "memberships"
    __table_args__ = (sa.Index("ix_memberships_list_subscriber", "list_id", "subscriber_id"),)

    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscriber: Mapped[Subscriber] = relationship(back_populates="memberships")
    mailing_list: Mapped[MailingList] = relationship()


class ConsentText(Model):
    """Each wording of the consent statement a form has shown, kept verbatim."""

    __tablename__ = "consent_texts"

    version: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsentEvent(Model):
    """Evidence of consent and of its withdrawal: what happened, when and from where."""

    __tablename__ = "consent_events"
    # The dashboard's weekly joins and departures read a range of one action.
    __table_args__ = (sa.Index("ix_consent_events_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[ConsentAction] = mapped_column(enum_column(ConsentAction))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    consent_version: Mapped[str | None] = mapped_column(
        sa.ForeignKey("consent_texts.version", ondelete="RESTRICT")
    )
    lists: Mapped[str] = mapped_column(sa.Text, default="")  # slugs at that moment
    note: Mapped[str] = mapped_column(sa.Text, default="")


class Suppression(Model):
    """Addresses that must not be added again without their own confirmation.

    Only a keyed hash of the address is kept, so an erased person's address is not
    stored, yet a re-import of it is recognised.
    """

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubscriberExport(Model):
    """A record of each export of subscribers' data: who, when, which filter.

    ``filters`` holds the query the CSV was filtered by (or, for one person's data,
    their subscriber id); no address is stored here, so an erasure leaves nothing."""

    __tablename__ = "subscriber_exports"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    staff_label: Mapped[str] = mapped_column(sa.String(254), default="")
    kind: Mapped[str] = mapped_column(sa.String(16))  # csv | person
    filters: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class ImportStatus(enum.StrEnum):
    UPLOADED = "uploaded"  # stored and previewed; options not chosen yet
    QUEUED = "queued"  # started; waiting for a runner (or for another import to finish)
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # the file could not be read, or the process running it stopped


class ImportJob(Model):
    """One CSV import started from the staff pages: who, when, which file, the options,
    how far it got, and its report (counts and every rejected row)."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_by: Mapped[str] = mapped_column(sa.String(254), default="")  # address, kept
    file_name: Mapped[str] = mapped_column(sa.String(255))  # as uploaded (cleaned)
    stored_name: Mapped[str] = mapped_column(sa.String(64))  # under the instance folder
    size: Mapped[int] = mapped_column(default=0)
    encoding: Mapped[str] = mapped_column(sa.String(32), default="")
    lines: Mapped[int] = mapped_column(default=0)  # data lines counted at upload
    # The options: lists (slugs), consent, dry run.
    lists: Mapped[str] = mapped_column(sa.Text, default="")
    consent_note: Mapped[str | None] = mapped_column(sa.Text)  # None: send confirmations
    dry_run: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ImportStatus] = mapped_column(
        enum_column(ImportStatus), default=ImportStatus.UPLOADED, index=True
    )
    runner: Mapped[str | None] = mapped_column(sa.String(80))  # host:pid:token running it
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rows_done: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    merged: Mapped[int] = mapped_column(default=0)
    rejected_count: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[list[Any] | None] = mapped_column(sa.JSON)  # [[line, reason], …]
    ignored_columns: Mapped[str] = mapped_column(sa.Text, default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
