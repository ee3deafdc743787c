"""What a returned message does to a subscriber, with defaults like the best peers'
(listmonk: a hard bounce or a complaint blocks at once; Mailman: soft bounces add up).

- a gone address (hard bounce) or a complaint stops mail at once (``bounced``,
  ``complained``; an import never adds them again);
- a transient failure (or one nobody explains) counts: ``BOUNCE_THRESHOLD`` of them
  within ``BOUNCE_WINDOW_DAYS``, since the last success notice, stop mail;
- a rejection that blames us never counts against the subscriber: it is an alert for
  staff, and ``BOUNCE_ALERTS_PAUSE`` of them about one send pause it, as the sending
  engine does when the relay refuses our configuration;
- auto-replies, delay and success notices are recorded and never count.

Every event is kept (``MailEvent``) with its kind, code, diagnostic text and source.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from newsletter.bounces.matching import Target
from newsletter.bounces.models import EventKind, MailEvent
from newsletter.delivery import sends
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.subscriptions import services
from newsletter.subscriptions.models import SubscriberStatus


def record(
    target: Target,
    kind: EventKind,
    *,
    status: str = "",
    diagnostic: str = "",
    source: str,
    inbound_id: int | None,
    now: datetime,
) -> str:
    """Keep the event and act on it; return what was done, in words for the summary."""
    db.session.add(
        MailEvent(
            subscriber_id=target.subscriber.id,
            delivery_id=target.delivery_id,
            digest_id=target.digest_id,
            inbound_id=inbound_id,
            kind=kind,
            status_code=status[:16],
            diagnostic=diagnostic[:1000],
            source=source[:64],
            at=now,
        )
    )
    db.session.flush()
    if kind == EventKind.HARD_BOUNCE:
        note = f"the address bounced ({status or 'gone'})"
        stopped = services.stop_mail(target.subscriber, SubscriberStatus.BOUNCED, note, now)
        return "mail stopped: the address is gone" if stopped else "recorded (mail had stopped)"
    if kind == EventKind.COMPLAINT:
        note = "reported our mail as spam (feedback loop)"
        services.stop_mail(target.subscriber, SubscriberStatus.COMPLAINED, note, now)
        return "mail stopped: a complaint"
    if kind == EventKind.SOFT_BOUNCE:
        return _count_transient(target, status, now)
    if kind == EventKind.REJECTED:
        return _alert(target, diagnostic)
    return "recorded"


def _count_transient(target: Target, status: str, now: datetime) -> str:
    config = current_app.config
    threshold = int(config["BOUNCE_THRESHOLD"])
    since = now - timedelta(days=float(config["BOUNCE_WINDOW_DAYS"]))
    last_success = db.session.scalar(
        sa.select(sa.func.max(MailEvent.at)).where(
            MailEvent.subscriber_id == target.subscriber.id,
            MailEvent.kind == EventKind.DELIVERED,
        )
    )
    if last_success is not None and last_success > since:
        since = last_success
    count = db.session.scalar(
        sa.select(sa.func.count(MailEvent.id)).where(
            MailEvent.subscriber_id == target.subscriber.id,
            MailEvent.kind == EventKind.SOFT_BOUNCE,
            MailEvent.at >= since,
        )
    )
    if int(count or 0) < threshold:
        return f"counted ({count} of {threshold} within {config['BOUNCE_WINDOW_DAYS']} days)"
    note = f"{count} transient failures within {config['BOUNCE_WINDOW_DAYS']} days ({status})"
    if services.stop_mail(target.subscriber, SubscriberStatus.BOUNCED, note, now):
        return f"mail stopped: {count} transient failures"
    return "counted (mail had stopped)"


def _alert(target: Target, diagnostic: str) -> str:
    """A rejection of us: never the subscriber's. Several about one send pause it."""
    if target.digest_id is None:
        return "an alert for staff: the receiver refused our mail"
    digest = db.session.get(Digest, target.digest_id)
    if digest is None or digest.status != DigestStatus.SENDING:
        return "an alert for staff: the receiver refused our mail"
    alerts = db.session.scalar(
        sa.select(sa.func.count(MailEvent.id)).where(
            MailEvent.digest_id == digest.id, MailEvent.kind == EventKind.REJECTED
        )
    )
    if int(alerts or 0) < int(current_app.config["BOUNCE_ALERTS_PAUSE"]):
        return "an alert for staff: the receiver refused our mail"
    reason = (
        f"{alerts} receivers refused our mail, not a subscriber (the last said: "
        f"{diagnostic[:200]}). Check the sending domain's reputation and DNS, then resume."
    )
    sends.pause_by_id(digest.id, reason)
    return "the send is paused: receivers refuse our mail"
