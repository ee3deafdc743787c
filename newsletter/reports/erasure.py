"""Erasing a requester: their requests keep their status and record (so counts and the
trail of decisions stay) but lose every personal detail, and their links stop.

``subscriptions.services.erase_subscriber`` calls ``erase_requests`` for the address it
erases, so the preferences page's erasure covers requests too. A requester who is not
a subscriber erases themselves through the link in the mail we sent them after they
verified (``erase_requester``), which erases a subscription with the same address as
well: one "erase my data" means everything we hold about that address.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.mailing.models import OutgoingMail
from newsletter.reports.models import Action, ReportEvent, ReportGrant, ReportRequest
from newsletter.reports.record import Actor, log
from newsletter.subscriptions.models import Subscriber
from newsletter.timeutil import utcnow


def erase_requests(address_key: str, actor: Actor, now: datetime | None = None) -> int:
    """Blank the personal data of every request from this address; return how many."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(ReportRequest.id, ReportRequest.report_id).where(
            ReportRequest.email_key == address_key
        )
    ).all()
    if not rows:
        return 0
    ids = [request_id for request_id, _ in rows]
    db.session.execute(
        sa.update(ReportRequest)
        .where(ReportRequest.id.in_(ids))
        .values(
            email="",
            email_key=None,
            open_key=None,
            name="",
            affiliation="",
            purpose="",
            decision_note="",
            erased_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    # The record keeps what happened and who decided; not where the requester was, nor
    # notes written to them (they may quote them).
    db.session.execute(
        sa.update(ReportEvent)
        .where(ReportEvent.request_id.in_(ids))
        .values(ip=None, note="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(ReportGrant)
        .where(ReportGrant.request_id.in_(ids), ReportGrant.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.delete(OutgoingMail)
        .where(sa.func.lower(OutgoingMail.recipient) == address_key)
        .execution_options(synchronize_session=False)
    )
    for request_id, report_id in rows:
        log(Action.ERASED, actor, report_id=report_id, request_id=request_id, at=now)
    for request in db.session.identity_map.values():
        if isinstance(request, ReportRequest) and request.id in ids:
            db.session.expire(request)
    return len(rows)


def erase_requester(request: ReportRequest, actor: Actor | None = None) -> None:
    """Everything we hold about the address of ``request``: its requests, and its
    subscription if there is one; a keyed hash stays so nobody can re-add it. The
    actor is the requester unless staff do it; no client address is kept either way."""
    from newsletter.subscriptions.services import erase_address_traces, erase_subscriber

    key = request.email_key
    if key is None:
        return  # erased already
    subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == key))
    erase_requests(key, actor or Actor.requester(None))
    if subscriber is not None:
        erase_subscriber(subscriber)
    else:
        erase_address_traces(key)
