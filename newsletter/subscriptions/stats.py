"""Counts for the staff pages."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import MailingList, Membership, Subscriber, SubscriberStatus


def subscriber_counts() -> dict[SubscriberStatus, int]:
    rows = db.session.execute(
        sa.select(Subscriber.status, sa.func.count(Subscriber.id)).group_by(Subscriber.status)
    )
    counts = dict.fromkeys(SubscriberStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


def list_sizes() -> list[tuple[MailingList, int]]:
    """Each list with its number of active subscribers."""
    active = (
        sa.select(Membership.list_id, sa.func.count().label("active"))
        .join(Subscriber, Subscriber.id == Membership.subscriber_id)
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .group_by(Membership.list_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(MailingList, sa.func.coalesce(active.c.active, 0))
        .outerjoin(active, active.c.list_id == MailingList.id)
        .order_by(MailingList.name)
    )
    return [(mailing_list, int(count)) for mailing_list, count in rows]
