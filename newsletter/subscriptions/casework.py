"""What staff do to one subscriber from their page: change lists, unsubscribe,
resubscribe, erase; what they see of them (the page and the access request's JSON);
and the record of every export of subscribers' data.

Each change leaves consent evidence naming the staff member; erasure is the reader's own
(``services.erase_subscriber``), so the same tables are emptied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from newsletter.bounces.models import MailEvent
from newsletter.delivery.models import Delivery
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.reports.models import ReportRequest
from newsletter.subscriptions import services
from newsletter.subscriptions.emails import send_confirmation
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    ConsentText,
    MailingList,
    Subscriber,
    SubscriberExport,
    SubscriberStatus,
)
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput, clean_block

ERASED_FILTER = "(erased)"


def change_lists(
    subscriber: Subscriber, lists: Sequence[MailingList], staff: str, now: datetime | None = None
) -> bool:
    """Put the subscriber on exactly these lists (memberships of archived lists stay, as
    history); return whether anything changed. At least one list: to stop all mail,
    unsubscribe them."""
    now = now or utcnow()
    if not lists:
        raise InvalidInput(_l("Choose at least one list (to stop all mail, unsubscribe them)."))
    archived = [lst for lst in lists if lst.archived_at is not None]
    if archived:
        raise InvalidInput(f"The list {archived[0].name} is archived.")
    kept = [m.mailing_list for m in subscriber.memberships if m.mailing_list.archived_at]
    before = {m.list_id for m in subscriber.memberships}
    services.replace_memberships(subscriber, [*lists, *kept])
    if before == {m.list_id for m in subscriber.memberships}:
        return False
    note = f"lists changed by staff ({staff})"
    services.record(subscriber, ConsentAction.CHANGED, now, services.Origin(), None, lists, note)
    return True


def staff_unsubscribe(subscriber: Subscriber, staff: str, reason: str = "") -> None:
    reason = clean_block(reason, "reason", 2000)
    note = f"unsubscribed by staff ({staff})" + (f": {reason}" if reason else "")
    if not services.unsubscribe(subscriber, services.Origin(), note=note):
        raise InvalidInput(f"{subscriber.email} gets no mail already ({subscriber.status.value}).")


def staff_resubscribe(
    subscriber: Subscriber,
    staff: str,
    *,
    consent_note: str | None,
    now: datetime | None = None,
) -> None:
    """Subscribe someone again: with a new note of their consent (active at once, the
    note kept as evidence) or, without one, by sending them a confirmation (pending
    until they confirm from their mailbox)."""
    now = now or utcnow()
    if subscriber.status == SubscriberStatus.ACTIVE:
        raise InvalidInput(f"{subscriber.email} is subscribed already.")
    lists = services.subscriber_lists(subscriber)
    lists = [lst for lst in lists if lst.archived_at is None] or services.default_lists()
    if not lists:
        raise InvalidInput(_l("There is no list to subscribe them to: create one first."))
    services.replace_memberships(subscriber, lists)
    note = clean_block(consent_note or "", "consent_note", 2000, label="consent note")
    origin = services.Origin()
    if note:
        services.activate(subscriber, now)
        evidence = f"subscribed again by staff ({staff}): {note}"
        services.record(subscriber, ConsentAction.ADDED, now, origin, None, lists, evidence)
        return
    services.set_status(subscriber, SubscriberStatus.PENDING, now)
    asked = f"subscribed again by staff ({staff}); confirmation asked"
    services.record(subscriber, ConsentAction.REQUESTED, now, origin, None, lists, asked)
    subscriber.confirmation_sent_at = now
    send_confirmation(subscriber, lists)


def staff_erase(subscriber: Subscriber) -> None:
    """The reader's own erasure, and the searches recorded with exports that named
    the person (an export's record must not keep what the erasure removed)."""
    needles = {subscriber.email_key, subscriber.name.lower(), subscriber.organisation.lower()}
    needles.discard("")
    for export in db.session.scalars(sa.select(SubscriberExport)):
        q = str(export.filters.get("q", ""))
        if q and any(q in needle or needle in q for needle in needles):
            export.filters = {**export.filters, "q": ERASED_FILTER}
    services.erase_subscriber(subscriber)


def record_export(staff_id: int | None, staff: str, kind: str, filters: dict[str, Any]) -> None:
    db.session.add(
        SubscriberExport(staff_user_id=staff_id, staff_label=staff, kind=kind, filters=filters)
    )
    db.session.flush()


def exports(limit: int = 200) -> list[SubscriberExport]:
    query = sa.select(SubscriberExport).order_by(SubscriberExport.at.desc()).limit(limit)
    return list(db.session.scalars(query))


# -- what we hold about one person ---------------------------------------------------


@dataclass(frozen=True)
class Record:
    """Everything the subscriber's page shows."""

    subscriber: Subscriber
    lists: list[MailingList]
    consent: list[tuple[ConsentEvent, str | None]]  # each event with the wording shown
    deliveries: list[tuple[Delivery, str]]  # each with its digest's subject
    events: list[MailEvent]
    requests: list[ReportRequest]


def person_record(subscriber: Subscriber) -> Record:
    consent = db.session.execute(
        sa.select(ConsentEvent, ConsentText.text)
        .outerjoin(ConsentText, ConsentText.version == ConsentEvent.consent_version)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    ).all()
    deliveries = db.session.execute(
        sa.select(Delivery, Digest.subject)
        .join(Digest, Digest.id == Delivery.digest_id)
        .where(Delivery.subscriber_id == subscriber.id)
        .order_by(Delivery.id.desc())
    ).all()
    events = db.session.scalars(
        sa.select(MailEvent)
        .where(MailEvent.subscriber_id == subscriber.id)
        .order_by(MailEvent.at.desc(), MailEvent.id.desc())
    )
    requests = db.session.scalars(
        sa.select(ReportRequest)
        .where(ReportRequest.email_key == subscriber.email_key)
        .order_by(ReportRequest.created_at.desc())
    )
    return Record(
        subscriber=subscriber,
        lists=services.subscriber_lists(subscriber),
        consent=[(event, text) for event, text in consent],
        deliveries=[(delivery, subject) for delivery, subject in deliveries],
        events=list(events),
        requests=list(requests),
    )


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def person_data(subscriber: Subscriber) -> dict[str, Any]:
    """An access request's answer (GDPR Art. 15): everything we hold about the person."""
    record = person_record(subscriber)
    return {
        "subscriber": {
            "email": subscriber.email,
            "name": subscriber.name,
            "organisation": subscriber.organisation,
            "status": subscriber.status.value,
            "source": subscriber.source.value,
            "joined": _when(subscriber.created_at),
            "status_changed": _when(subscriber.status_changed_at),
            "confirmation_sent": _when(subscriber.confirmation_sent_at),
            "bounce_score": subscriber.bounce_score,
        },
        "memberships": [
            {"list": m.mailing_list.slug, "name": m.mailing_list.name, "since": _when(m.created_at)}
            for m in sorted(subscriber.memberships, key=lambda m: m.mailing_list.slug)
        ],
        "consent_history": [
            {
                "action": event.action.value,
                "at": _when(event.at),
                "ip": event.ip,
                "user_agent": event.user_agent,
                "lists": event.lists.split(",") if event.lists else [],
                "consent_version": event.consent_version,
                "consent_text": text,
                "note": event.note,
            }
            for event, text in record.consent
        ],
        "deliveries": [
            {
                "digest": subject,
                "status": delivery.status.value,
                "attempts": delivery.attempts,
                "sent_at": _when(delivery.sent_at),
                "server_answer": delivery.last_response,
            }
            for delivery, subject in record.deliveries
        ],
        "mail_events": [
            {
                "kind": event.kind.value,
                "at": _when(event.at),
                "status_code": event.status_code,
                "diagnostic": event.diagnostic,
                "source": event.source,
            }
            for event in record.events
        ],
        "report_requests": [
            {
                "report_id": request.report_id,
                "status": request.status.value,
                "name": request.name,
                "affiliation": request.affiliation,
                "purpose": request.purpose,
                "created_at": _when(request.created_at),
                "verified_at": _when(request.verified_at),
                "decided_at": _when(request.decided_at),
                "decision_note": request.decision_note,
            }
            for request in record.requests
        ],
    }
