"""Deciding a request (approve, decline, revoke) and the download links that approval
grants: signed, expiring, and checked against the database on every use, so that a
revoked link stops at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from newsletter.database import by_public_id, compare_and_set, rows_changed
from newsletter.extensions import db
from newsletter.reports import emails
from newsletter.reports.models import (
    Action,
    Report,
    ReportGrant,
    ReportRequest,
    ReportVersion,
    RequestStatus,
)
from newsletter.reports.record import Actor, log
from newsletter.timeutil import utcnow
from newsletter.tokens import Purpose, make_token
from newsletter.validation import InvalidInput, clean_block

MAX_NOTE = 2000
_DECIDABLE = {RequestStatus.PENDING}
# Staff may approve after all a request they declined or whose access they revoked.
_APPROVABLE = {RequestStatus.PENDING, RequestStatus.DECLINED, RequestStatus.REVOKED}


class LinkExpired(Exception):
    """A genuine download link past its time."""


class LinkRevoked(Exception):
    """A genuine download link whose access was withdrawn (revoked or erased)."""


def transition(
    request: ReportRequest,
    allowed: set[RequestStatus],
    status: RequestStatus,
    **values: Any,
) -> bool:
    """Move to ``status`` if the request is (still) in one of ``allowed``: of two staff
    deciding at once only one acts."""
    return compare_and_set(request, ReportRequest.status.in_(allowed), status=status, **values)


def _refusal(request: ReportRequest, wanted: str) -> InvalidInput:
    status = request.status
    if request.erased_at is not None:
        return InvalidInput(f"Request #{request.id}: the requester's data was erased.")
    if status == RequestStatus.UNVERIFIED:
        return InvalidInput(
            f"Request #{request.id} is not verified yet: only verified requests are decided."
        )
    when = f" on {request.decided_at:%Y-%m-%d %H:%M} UTC" if request.decided_at else ""
    return InvalidInput(f"Request #{request.id} cannot be {wanted}: it was {status.value}{when}.")


def approve(
    request: ReportRequest, actor: Actor, note: str = "", now: datetime | None = None
) -> ReportGrant:
    """Approve and email a download link."""
    now = now or utcnow()
    if request.erased_at is None and request.report.current is None:
        raise InvalidInput(f"Request #{request.id}: the session has no report file to send.")
    _decide(request, _APPROVABLE, RequestStatus.APPROVED, actor, note, now)
    return _send_link(request, actor, now)


_ACTIONS = {RequestStatus.APPROVED: Action.APPROVED, RequestStatus.DECLINED: Action.DECLINED}


def _decide(
    request: ReportRequest,
    allowed: set[RequestStatus],
    status: RequestStatus,
    actor: Actor,
    note: str,
    now: datetime,
) -> None:
    """Record a decision (the request leaves the open ones) with its note, or refuse."""
    note = clean_block(note, "note", MAX_NOTE)
    wanted = "approved" if status == RequestStatus.APPROVED else status.value
    if request.erased_at is not None or not transition(
        request, allowed, status, decided_at=now, decision_note=note, open_key=None
    ):
        raise _refusal(request, wanted)
    log(
        _ACTIONS[status],
        actor,
        report_id=request.report_id,
        request_id=request.id,
        note=note,
        at=now,
    )


def _send_link(request: ReportRequest, actor: Actor, now: datetime) -> ReportGrant:
    days = int(current_app.config["REPORT_LINK_DAYS"])
    grant = ReportGrant(
        request_id=request.id, created_at=now, expires_at=now + timedelta(days=days)
    )
    db.session.add(grant)
    db.session.flush()
    token = make_token(Purpose.REPORT_DOWNLOAD, grant.public_id.hex)
    emails.send_link(request, request.report.session, grant, token)
    log(
        Action.LINK_SENT,
        actor,
        report_id=request.report_id,
        request_id=request.id,
        note=f"valid until {grant.expires_at:%Y-%m-%d %H:%M} UTC",
        at=now,
    )
    return grant


def decline(
    request: ReportRequest, actor: Actor, note: str = "", now: datetime | None = None
) -> None:
    """Decline a verified request and tell the requester politely, with the note."""
    _decide(request, _DECIDABLE, RequestStatus.DECLINED, actor, note, now or utcnow())
    emails.send_declined(request, request.report.session)


def revoke(request: ReportRequest, actor: Actor, now: datetime | None = None) -> int:
    """Withdraw an approval: every link sent for this request stops working at once.
    Returns how many live links were stopped."""
    now = now or utcnow()
    if not transition(request, {RequestStatus.APPROVED}, RequestStatus.REVOKED, decided_at=now):
        raise _refusal(request, "revoked")
    stopped = _stop_links(request.id, now)
    log(
        Action.REVOKED,
        actor,
        report_id=request.report_id,
        request_id=request.id,
        note=f"{stopped} live link(s) stopped",
        at=now,
    )
    return stopped


def _stop_links(request_id: int, now: datetime) -> int:
    return rows_changed(
        sa.update(ReportGrant)
        .where(
            ReportGrant.request_id == request_id,
            ReportGrant.revoked_at.is_(None),
            ReportGrant.expires_at > now,
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


# -- downloads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    grant: ReportGrant
    request: ReportRequest
    version: ReportVersion


def grant_by_public_id(public_id: str) -> ReportGrant | None:
    return by_public_id(ReportGrant, public_id)


def open_grant(public_id: str, now: datetime | None = None) -> Download:
    """The file a download link gives, if the link is still good in the database:
    raises LinkRevoked (revoked, erased, no longer approved) or LinkExpired."""
    now = now or utcnow()
    grant = grant_by_public_id(public_id)
    if grant is None:
        raise LinkRevoked()
    request = grant.request
    if (
        grant.revoked_at is not None
        or request.status != RequestStatus.APPROVED
        or request.erased_at is not None
    ):
        raise LinkRevoked()
    if grant.expires_at <= now:
        raise LinkExpired()
    version = request.report.current
    if version is None:  # pragma: no cover - versions are never deleted
        raise LinkRevoked()
    return Download(grant=grant, request=request, version=version)


def record_download(download: Download, ip: str | None, now: datetime | None = None) -> None:
    log(
        Action.DOWNLOADED,
        Actor.requester(ip),
        report_id=download.request.report_id,
        request_id=download.request.id,
        version_id=download.version.id,
        at=now,
    )


# -- the staff queue ---------------------------------------------------------------------


def _listing() -> sa.Select[ReportRequest]:
    return sa.select(ReportRequest).options(
        selectinload(ReportRequest.report).selectinload(Report.session)
    )


def all_requests() -> Sequence[ReportRequest]:
    """Every request, unverified ones too, oldest first (for the command line)."""
    return list(db.session.scalars(_listing().order_by(ReportRequest.id)))


def requests_with(status: RequestStatus | None, limit: int | None = 500) -> Sequence[ReportRequest]:
    """Requests in ``status`` (verified ones only when None), oldest waiting first for
    the queue, newest first otherwise."""
    query = _listing()
    if status is None:
        query = query.where(ReportRequest.status != RequestStatus.UNVERIFIED)
    else:
        query = query.where(ReportRequest.status == status)
    if status == RequestStatus.PENDING:
        query = query.order_by(ReportRequest.verified_at, ReportRequest.id)
    else:
        query = query.order_by(ReportRequest.created_at.desc(), ReportRequest.id.desc())
    return list(db.session.scalars(query.limit(limit)))


def status_counts() -> dict[RequestStatus, int]:
    counts = dict.fromkeys(RequestStatus, 0)
    query = sa.select(ReportRequest.status, sa.func.count()).group_by(ReportRequest.status)
    for status, count in db.session.execute(query):
        counts[status] = count
    return counts


def grants_of(request: ReportRequest) -> Sequence[ReportGrant]:
    query = (
        sa.select(ReportGrant)
        .where(ReportGrant.request_id == request.id)
        .order_by(ReportGrant.created_at.desc())
    )
    return list(db.session.scalars(query))
