"""A session's detailed report (its versions and its approval rule), the requests for
it, the download links granted, and the record of every step."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.dbtypes import UTCDateTime, enum_column
from newsletter.extensions import Model
from newsletter.sessions.models import DialogueSession
from newsletter.timeutil import utcnow


class ApprovalRule(enum.StrEnum):
    STAFF = "staff"  # staff decide every request (the default)
    ANYONE = "anyone"  # every verified request is approved
    DOMAINS = "domains"  # verified addresses at the listed domains are approved


class RequestStatus(enum.StrEnum):
    UNVERIFIED = "unverified"  # asked; the address is not verified yet
    PENDING = "pending"  # verified: waiting for a decision
    APPROVED = "approved"  # a download link was sent
    DECLINED = "declined"
    REVOKED = "revoked"  # approved, then access withdrawn


class Action(enum.StrEnum):
    """What the record says happened."""

    UPLOADED = "uploaded"  # a version of the file (the first, or a replacement)
    RULE_CHANGED = "rule changed"
    REQUESTED = "requested"
    VERIFIED = "verified"
    APPROVED = "approved"
    DECLINED = "declined"
    REVOKED = "revoked"
    LINK_SENT = "link sent"
    DOWNLOADED = "downloaded"
    ERASED = "erased"  # the requester's personal data was erased


class ActorKind(enum.StrEnum):
    STAFF = "staff"
    REQUESTER = "requester"
    RULE = "rule"  # the session's automatic approval rule, or the reissue setting
    OPERATOR = "operator"  # the command line
    SYSTEM = "system"  # done as part of something else (erasing a subscriber)


class Report(Model):
    """The detailed report of one session: its approval rule and its file versions."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: the record of who received a report outlives nothing it describes.
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dialogue_sessions.id", ondelete="RESTRICT"), unique=True
    )
    approval_rule: Mapped[ApprovalRule] = mapped_column(
        enum_column(ApprovalRule), default=ApprovalRule.STAFF
    )
    approval_domains: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[DialogueSession] = relationship()
    versions: Mapped[list[ReportVersion]] = relationship(
        back_populates="report", order_by="ReportVersion.number", passive_deletes=True
    )

    @property
    def current(self) -> ReportVersion | None:
        return self.versions[-1] if self.versions else None


class ReportVersion(Model):
    """One uploaded file. Replacing a report adds a version; none is ever overwritten,
    so the record can say which version each reader downloaded."""

    __tablename__ = "report_versions"
    __table_args__ = (sa.UniqueConstraint("report_id", "number", name="uq_report_versions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)  # ours, never the upload's
    original_name: Mapped[str] = mapped_column(sa.String(255), default="")
    kind: Mapped[str] = mapped_column(sa.String(8))  # pdf | docx | odt, from the content
    size: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(sa.String(254), default="")

    report: Mapped[Report] = relationship(back_populates="versions")


class ReportRequest(Model):
    """A reader's request for a session's report. Erasure blanks the personal fields
    and keeps the row (its status and record still count)."""

    __tablename__ = "report_requests"
    # One open (unverified or pending) request per address and report: ``open_key`` holds
    # the address key while the request is open and is NULL after (NULLs never clash).
    __table_args__ = (
        sa.UniqueConstraint("report_id", "open_key", name="uq_report_requests_open"),
        sa.Index("ix_report_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    email_key: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    open_key: Mapped[str | None] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    affiliation: Mapped[str] = mapped_column(sa.String(200), default="")
    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus), default=RequestStatus.UNVERIFIED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verification_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(sa.Text, default="")
    # The language of the page the request was made on (a tag of LANGUAGES; empty: the
    # default): its verification, approval and decline emails are in it.
    language: Mapped[str] = mapped_column(sa.String(35), default="", server_default="")
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report: Mapped[Report] = relationship()


class ReportGrant(Model):
    """A download link sent to an approved requester: valid until ``expires_at`` unless
    revoked. The signed token names the grant; the download checks this row."""

    __tablename__ = "report_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, unique=True, default=uuid.uuid4)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("report_requests.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[ReportRequest] = relationship()


class ReportEvent(Model):
    """The record: what happened to a report or a request, when, by whom, from where."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reports.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("report_requests.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("report_versions.id", ondelete="SET NULL")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[Action] = mapped_column(enum_column(Action))
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind))
    actor_staff_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(sa.String(254), default="")
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    note: Mapped[str] = mapped_column(sa.Text, default="")
