"""Demo history for the dashboard: a few weeks of demo readers joining and leaving, and
the figures of an earlier send, so the staff home's charts have something to show.

All of it is clearly demo data: the readers are on a private list "Demo readers" with
addresses at ``demo.invalid`` (a name that can never receive mail), and the earlier send
is a digest marked "(demo)" whose deliveries were recorded, never sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.bounces.models import EventKind, MailEvent
from newsletter.delivery.models import Delivery, DeliveryStatus
from newsletter.digests import services as digests
from newsletter.digests.models import DigestStatus
from newsletter.extensions import db
from newsletter.sessions.models import DialogueSession
from newsletter.subscriptions import lists as list_service
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    MailingList,
    Membership,
    Subscriber,
    SubscriberStatus,
)
from newsletter.timeutil import utcnow

DEMO_LIST = "demo-readers"
DOMAIN = "demo.invalid"
WEEKS = 8
# Joins and departures per week, oldest first: a list that grows, with a dip.
JOINS = (14, 9, 11, 6, 12, 8, 10, 7)
LEAVES = (0, 1, 2, 1, 4, 1, 2, 1)
FAIL_EVERY = 17  # one delivery in this many was refused


def load(session: DialogueSession | None, now: datetime | None = None) -> bool:
    """Add the demo history once; False when it is there already."""
    if db.session.scalar(sa.select(MailingList.id).where(MailingList.slug == DEMO_LIST)):
        return False
    now = now or utcnow()
    demo_list = list_service.create_list(
        DEMO_LIST,
        "Demo readers",
        "Demo data for the dashboard: readers who never existed.",
        public=False,
    )
    readers = _readers(demo_list, now)
    if session is not None and session.points:
        _earlier_send(session, demo_list, readers, now)
    db.session.flush()
    return True


def _readers(demo_list: MailingList, now: datetime) -> list[Subscriber]:
    readers: list[Subscriber] = []
    number = 0
    for week, (joins, leaves) in enumerate(zip(JOINS, LEAVES, strict=True)):
        start = now - timedelta(weeks=WEEKS - week)
        for index in range(joins):
            number += 1
            joined = start + timedelta(hours=11 * index + 3)
            reader = Subscriber(
                public_id=uuid.uuid4(),
                email=f"reader{number}@{DOMAIN}",
                email_key=f"reader{number}@{DOMAIN}",
                name=f"Demo reader {number}",
                status=SubscriberStatus.ACTIVE,
                created_at=joined,
                status_changed_at=joined,
            )
            db.session.add(reader)
            db.session.flush()
            db.session.add(Membership(subscriber_id=reader.id, list_id=demo_list.id))
            db.session.add(
                ConsentEvent(
                    subscriber_id=reader.id,
                    action=ConsentAction.CONFIRMED,
                    at=joined,
                    lists=DEMO_LIST,
                    note="demo data",
                )
            )
            readers.append(reader)
        for reader in readers[-joins - leaves : -joins][:leaves] if leaves else []:
            left = start + timedelta(days=5)
            reader.status = SubscriberStatus.UNSUBSCRIBED
            reader.status_changed_at = left
            db.session.add(
                ConsentEvent(
                    subscriber_id=reader.id,
                    action=ConsentAction.UNSUBSCRIBED,
                    at=left,
                    lists=DEMO_LIST,
                    note="demo data",
                )
            )
    return readers


def _earlier_send(
    session: DialogueSession, demo_list: MailingList, readers: list[Subscriber], now: datetime
) -> None:
    """A digest of the sample session as if sent to the demo readers two weeks ago: most
    delivered, a few refused, two bounced later."""
    digest = digests.create_from_session(session)
    digest.subject = f"{digest.subject[:180]} (demo)"
    digest.lists = [demo_list]
    started = now - timedelta(weeks=2)
    digest.status = DigestStatus.SENT
    digest.send_started_at = started
    digest.sent_at = started + timedelta(minutes=3)
    db.session.flush()
    audience = readers[: len(readers) - 10]
    digest.audience_size = len(audience)
    for index, reader in enumerate(audience):
        failed = index % FAIL_EVERY == 0
        db.session.add(
            Delivery(
                digest_id=digest.id,
                subscriber_id=reader.id,
                status=DeliveryStatus.FAILED if failed else DeliveryStatus.SENT,
                attempts=1,
                next_attempt_at=started,
                sent_at=None if failed else started + timedelta(seconds=2 * index),
                last_response="550 5.1.1 mailbox unavailable (demo)"
                if failed
                else "250 2.0.0 queued (demo)",
            )
        )
    for reader in audience[3:5]:
        db.session.add(
            MailEvent(
                subscriber_id=reader.id,
                digest_id=digest.id,
                kind=EventKind.SOFT_BOUNCE,
                status_code="4.2.2",
                diagnostic="mailbox full (demo data)",
                source="demo",
                at=started + timedelta(hours=5),
            )
        )
