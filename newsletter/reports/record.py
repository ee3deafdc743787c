"""The record of a report and its requests: who did what, when, from where; and its
CSV export.

Every change a service makes writes one event here in the same transaction, so the
record exists exactly when the change does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from newsletter.extensions import db
from newsletter.reports.models import (
    Action,
    ActorKind,
    Report,
    ReportEvent,
    ReportRequest,
    ReportVersion,
)
from newsletter.sessions.models import DialogueSession
from newsletter.timeutil import utcnow


@dataclass(frozen=True)
class Actor:
    """Who acted: a staff member, the requester, the automatic rule or the command line,
    with the client address when there is one."""

    kind: ActorKind
    staff_id: int | None = None
    label: str = ""
    ip: str | None = None

    @classmethod
    def staff(cls, staff_id: int, email: str, ip: str | None) -> Actor:
        return cls(ActorKind.STAFF, staff_id, email, ip)

    @classmethod
    def requester(cls, ip: str | None) -> Actor:
        return cls(ActorKind.REQUESTER, ip=ip)

    @classmethod
    def rule(cls, label: str) -> Actor:
        return cls(ActorKind.RULE, label=label)

    @classmethod
    def operator(cls) -> Actor:
        return cls(ActorKind.OPERATOR, label="command line")

    @property
    def name(self) -> str:
        """How the record and the file's history name this actor."""
        return self.label or self.kind.value


def log(
    action: Action,
    actor: Actor,
    *,
    report_id: int,
    request_id: int | None = None,
    version_id: int | None = None,
    note: str = "",
    at: datetime | None = None,
) -> None:
    db.session.add(
        ReportEvent(
            report_id=report_id,
            request_id=request_id,
            version_id=version_id,
            at=at or utcnow(),
            action=action,
            actor_kind=actor.kind,
            actor_staff_id=actor.staff_id,
            actor_label=actor.label[:254],
            ip=actor.ip[:45] if actor.ip else None,
            note=note,
        )
    )


@dataclass(frozen=True)
class Entry:
    """One line of the record, ready to show or export."""

    at: datetime
    session_slug: str
    request_id: int | None
    requester: str
    action: str
    actor: str
    ip: str
    version: int | None
    note: str


def _entries(where: sa.ColumnElement[bool] | None = None) -> Iterator[Entry]:
    version = aliased(ReportVersion)
    query = (
        sa.select(
            ReportEvent,
            DialogueSession.slug,
            ReportRequest.email,
            ReportRequest.erased_at,
            version.number,
        )
        .join(Report, Report.id == ReportEvent.report_id)
        .join(DialogueSession, DialogueSession.id == Report.session_id)
        .outerjoin(ReportRequest, ReportRequest.id == ReportEvent.request_id)
        .outerjoin(version, version.id == ReportEvent.version_id)
        .order_by(ReportEvent.at, ReportEvent.id)
    )
    if where is not None:
        query = query.where(where)
    for event, slug, email, erased_at, number in db.session.execute(query):
        requester = "(erased)" if erased_at is not None else (email or "")
        actor = event.actor_label or event.actor_kind.value
        if event.actor_kind != ActorKind.STAFF and event.actor_label:
            actor = f"{event.actor_kind.value}: {event.actor_label}"
        yield Entry(
            at=event.at,
            session_slug=slug,
            request_id=event.request_id,
            requester=requester,
            action=event.action.value,
            actor=actor,
            ip=event.ip or "",
            version=number,
            note=event.note,
        )


def request_record(request: ReportRequest) -> list[Entry]:
    return list(_entries(ReportEvent.request_id == request.id))


def report_record(report: Report) -> list[Entry]:
    return list(_entries(ReportEvent.report_id == report.id))


def download_counts(report: Report) -> dict[int, int]:
    """Readers' downloads of each version of ``report`` (version id → count); staff
    checking a file do not count."""
    query = (
        sa.select(ReportEvent.version_id, sa.func.count())
        .where(
            ReportEvent.report_id == report.id,
            ReportEvent.action == Action.DOWNLOADED,
            ReportEvent.request_id.is_not(None),
        )
        .group_by(ReportEvent.version_id)
    )
    return {version_id: count for version_id, count in db.session.execute(query) if version_id}


CSV_HEADER = (
    "time (UTC)", "session", "request", "requester", "action", "actor", "ip", "version", "note",
)  # fmt: skip


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def export_csv(report: Report | None = None) -> Iterator[str]:
    """The record (of one report, or of all) as CSV, a line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: tuple[object, ...]) -> str:
        writer.writerow([_cell(value) for value in values])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CSV_HEADER)
    where = ReportEvent.report_id == report.id if report is not None else None
    for entry in _entries(where):
        yield line(
            (
                entry.at.strftime("%Y-%m-%d %H:%M:%S"),
                entry.session_slug,
                entry.request_id or "",
                entry.requester,
                entry.action,
                entry.actor,
                entry.ip,
                entry.version or "",
                entry.note,
            )
        )
