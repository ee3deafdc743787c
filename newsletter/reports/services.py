"""A reader's request for a report: ask, verify the address, and what happens then
(the automatic rules, or staff are told).

Services flush and never commit; mail leaves after the caller commits. The public
answer is the same whatever the address's history: nothing here tells the caller
whether a request existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from newsletter import i18n
from newsletter.database import by_public_id, compare_and_set, rows_changed
from newsletter.extensions import db
from newsletter.reports import decisions, emails
from newsletter.reports.files import rule_approves
from newsletter.reports.models import Action, Report, ReportRequest, RequestStatus
from newsletter.reports.record import Actor, log
from newsletter.subscriptions.models import SubscriberSource
from newsletter.subscriptions.services import Origin, SubscribeRequest, request_subscription
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput, clean_block, clean_text, normalize_address

MAX_PURPOSE = 2000


@dataclass(frozen=True)
class Ask:
    """What the request form sent."""

    email: str
    name: str
    affiliation: str = ""
    purpose: str = ""
    subscribe: bool = False
    consent_version: str = ""


class LinkNoLongerValid(Exception):
    """A genuine link for a request that is gone (purged or erased)."""


def request_by_public_id(public_id: str) -> ReportRequest | None:
    return by_public_id(ReportRequest, public_id)


def ask(report: Report, form: Ask, origin: Origin, now: datetime | None = None) -> None:
    """Record a request and send the address a verification link (at most one per
    ``CONFIRM_RESEND_MINUTES``). A second request while one is open updates its words;
    one already verified and waiting changes nothing. Ticking the newsletter box asks
    for a subscription through the normal double opt-in."""
    now = now or utcnow()
    address = normalize_address(form.email)
    name = clean_text(form.name, "name")
    if not name:
        raise InvalidInput(_l("Please give your name."), "name")
    affiliation = clean_text(form.affiliation, "affiliation")
    purpose = clean_block(form.purpose, "purpose", MAX_PURPOSE)
    if not purpose:
        raise InvalidInput(_l("Please say what you would use the report for."), "purpose")
    if report.current is None:
        raise InvalidInput(_l("This session has no detailed report to ask for."))
    if form.subscribe:
        request_subscription(
            SubscribeRequest(
                email=address.email,
                name=name,
                organisation=affiliation,
                consent_version=form.consent_version,
            ),
            origin,
            now,
            source=SubscriberSource.REPORT,
        )

    request = db.session.scalar(
        sa.select(ReportRequest).where(
            ReportRequest.report_id == report.id, ReportRequest.open_key == address.key
        )
    )
    actor = Actor.requester(origin.ip)
    if request is None:
        request = ReportRequest(
            report_id=report.id,
            email=address.email,
            email_key=address.key,
            open_key=address.key,
            status=RequestStatus.UNVERIFIED,
            created_at=now,
        )
        db.session.add(request)
    elif request.status != RequestStatus.UNVERIFIED:
        return  # verified and waiting for staff: nothing to do, nothing to send
    request.email = address.email
    request.name, request.affiliation, request.purpose = name, affiliation, purpose
    request.language = i18n.current_language()
    db.session.flush()
    log(Action.REQUESTED, actor, report_id=report.id, request_id=request.id, at=now)
    if _take_verification_slot(request, now):
        emails.send_verification(request, report.session)


def _take_verification_slot(request: ReportRequest, now: datetime) -> bool:
    """At most one verification email per ``CONFIRM_RESEND_MINUTES``; of concurrent
    requests for one address (a double click), one sends."""
    wait = timedelta(minutes=current_app.config["CONFIRM_RESEND_MINUTES"])
    return compare_and_set(
        request,
        sa.or_(
            ReportRequest.verification_sent_at.is_(None),
            ReportRequest.verification_sent_at <= now - wait,
        ),
        verification_sent_at=now,
    )


def verify(public_id: str, origin: Origin, now: datetime | None = None) -> ReportRequest:
    """Mark the address verified (once; again is harmless) and act on the request:
    a fresh link for someone approved before (``REPORT_REISSUE_WITHOUT_DECISION``), the
    session's automatic rule, or else a notice to staff. Someone whose access was
    revoked before always goes to staff."""
    now = now or utcnow()
    request = request_by_public_id(public_id)
    if request is None or request.erased_at is not None:
        raise LinkNoLongerValid()
    if not decisions.transition(
        request, {RequestStatus.UNVERIFIED}, RequestStatus.PENDING, verified_at=now
    ):
        return request
    report = request.report
    log(
        Action.VERIFIED,
        Actor.requester(origin.ip),
        report_id=report.id,
        request_id=request.id,
        at=now,
    )
    key = request.email_key or ""
    earlier = _earlier_statuses(request)
    if RequestStatus.REVOKED in earlier:
        emails.notify_staff(request, report.session)
    elif (
        current_app.config["REPORT_REISSUE_WITHOUT_DECISION"] and RequestStatus.APPROVED in earlier
    ):
        decisions.approve(request, Actor.rule("approved before: a fresh link"), now=now)
    elif rule_approves(report, key):
        rule = report.approval_rule.value
        decisions.approve(request, Actor.rule(f"session rule '{rule}'"), now=now)
    else:
        emails.notify_staff(request, report.session)
    return request


def _earlier_statuses(request: ReportRequest) -> set[RequestStatus]:
    """What became of this address's earlier requests for the same report."""
    query = sa.select(ReportRequest.status).where(
        ReportRequest.report_id == request.report_id,
        ReportRequest.email_key == request.email_key,
        ReportRequest.id != request.id,
    )
    return set(db.session.scalars(query))


def purge_unverified(older_than: timedelta, now: datetime | None = None) -> int:
    """Delete requests whose address was never verified within ``older_than`` (their
    record goes with them: they never reached anyone)."""
    cutoff = (now or utcnow()) - older_than
    return rows_changed(
        sa.delete(ReportRequest)
        .where(
            ReportRequest.status == RequestStatus.UNVERIFIED,
            sa.func.coalesce(ReportRequest.verification_sent_at, ReportRequest.created_at) < cutoff,
        )
        .execution_options(synchronize_session=False)
    )


def pending_count() -> int:
    """Verified requests waiting for a staff decision."""
    query = sa.select(sa.func.count(ReportRequest.id)).where(
        ReportRequest.status == RequestStatus.PENDING
    )
    return int(db.session.scalar(query) or 0)
