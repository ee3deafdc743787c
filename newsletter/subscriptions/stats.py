"""Counts for the staff pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import MailingList, Membership, Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow


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


@dataclass(frozen=True)
class ListFigures:
    mailing_list: MailingList
    active: int  # active subscribers on it now
    joined_30d: int  # of them, joined the list in the last 30 days
    left_30d: int  # members who unsubscribed, bounced or complained in the last 30 days


def list_overview(now: datetime | None = None) -> list[ListFigures]:
    """Each list (archived ones too) with its active count and its growth: who joined
    and who left in the last 30 days. One grouped query over the memberships."""
    since = (now or utcnow()) - timedelta(days=30)
    active = Subscriber.status == SubscriberStatus.ACTIVE
    left = Subscriber.status.not_in([SubscriberStatus.ACTIVE, SubscriberStatus.PENDING])
    figures = (
        sa.select(
            Membership.list_id,
            sa.func.count().filter(active).label("active"),
            sa.func.count().filter(active, Membership.created_at >= since).label("joined"),
            sa.func.count().filter(left, Subscriber.status_changed_at >= since).label("left"),
        )
        .join(Subscriber, Subscriber.id == Membership.subscriber_id)
        .group_by(Membership.list_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            MailingList,
            sa.func.coalesce(figures.c.active, 0),
            sa.func.coalesce(figures.c.joined, 0),
            sa.func.coalesce(figures.c.left, 0),
        )
        .outerjoin(figures, figures.c.list_id == MailingList.id)
        .order_by(MailingList.archived_at.is_not(None), MailingList.name)
    )
    return [ListFigures(lst, int(a), int(j), int(lf)) for lst, a, j, lf in rows]
