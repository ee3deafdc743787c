"""Counts for the staff pages."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    MailingList,
    Membership,
    Subscriber,
    SubscriberStatus,
)
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
class Week:
    start: datetime  # Monday 00:00 UTC
    joined: int  # consent given: confirmed, or added or imported with a consent note
    left: int  # unsubscribed, bounced or complained
    active: int  # active subscribers at the end of the week (see ``weekly``)


JOINED = (ConsentAction.CONFIRMED, ConsentAction.ADDED, ConsentAction.IMPORTED)
STOPPED = (SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)


def week_starts(weeks: int, now: datetime | None = None) -> list[datetime]:
    """The Mondays (00:00 UTC) of the last ``weeks`` weeks, this one last."""
    now = now or utcnow()
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _per_week(column: Any, starts: list[datetime]) -> list[Any]:
    """One SUM per week over a range of ``column`` (an indexed time): a single scan of
    the weeks shown, whatever the table's size."""
    bounds = [*starts, starts[-1] + timedelta(weeks=1)]
    return [
        sa.func.coalesce(
            sa.func.sum(sa.case((sa.and_(column >= low, column < high), 1), else_=0)), 0
        )
        for low, high in itertools.pairwise(bounds)
    ]


def weekly(weeks: int = 12, now: datetime | None = None) -> list[Week]:
    """Confirmations and departures per week, and the active count at each week's end.

    The active count now is exact; earlier ones are worked back from it with the weeks'
    joins and departures (people erased since are in neither), so the chart costs a few
    aggregate queries over the weeks shown, not a scan of every subscriber's history."""
    starts = week_starts(weeks, now)
    since = starts[0]
    joined = db.session.execute(
        sa.select(*_per_week(ConsentEvent.at, starts)).where(
            ConsentEvent.action.in_(JOINED), ConsentEvent.at >= since
        )
    ).one()
    unsubscribed = db.session.execute(
        sa.select(*_per_week(ConsentEvent.at, starts)).where(
            ConsentEvent.action == ConsentAction.UNSUBSCRIBED, ConsentEvent.at >= since
        )
    ).one()
    # Mail stopped by the mailbox (bounced, complained): counted here unless it left
    # consent evidence too (``stop_mail`` records one; the send loop's bounce count not).
    recorded = sa.exists().where(
        ConsentEvent.subscriber_id == Subscriber.id,
        ConsentEvent.action == ConsentAction.UNSUBSCRIBED,
        ConsentEvent.at >= Subscriber.status_changed_at,
    )
    stopped = db.session.execute(
        sa.select(*_per_week(Subscriber.status_changed_at, starts)).where(
            Subscriber.status.in_(STOPPED), Subscriber.status_changed_at >= since, ~recorded
        )
    ).one()
    active = subscriber_counts()[SubscriberStatus.ACTIVE]
    rows: list[Week] = []
    for index in range(weeks - 1, -1, -1):
        left = int(unsubscribed[index]) + int(stopped[index])
        rows.append(Week(starts[index], int(joined[index]), left, active))
        active = max(active - int(joined[index]) + left, 0)
    return rows[::-1]
