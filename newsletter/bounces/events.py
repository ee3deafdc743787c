"""What returned mail told us, for the staff pages: one subscriber's history, and
counts per kind over time (the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from newsletter.bounces.models import EventKind, MailEvent
from newsletter.extensions import db
from newsletter.timeutil import utcnow


def subscriber_events(subscriber_id: int, limit: int = 100) -> list[MailEvent]:
    """A subscriber's events, newest first: kind, code, the server's words, source."""
    query = (
        sa.select(MailEvent)
        .where(MailEvent.subscriber_id == subscriber_id)
        .order_by(MailEvent.at.desc(), MailEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def alerts(limit: int = 50) -> list[MailEvent]:
    """Rejections that blame us (blocklists, policy, DMARC), newest first: what staff
    must look into, since they are never counted against subscribers."""
    query = (
        sa.select(MailEvent)
        .where(MailEvent.kind == EventKind.REJECTED)
        .order_by(MailEvent.at.desc(), MailEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class DayCount:
    day: date
    kind: EventKind
    count: int


def counts_by_day(days: int = 30, now: datetime | None = None) -> list[DayCount]:
    """Events per kind per UTC day over the last ``days`` days, oldest first (days and
    kinds with no event are left out)."""
    now = now or utcnow()
    since = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = db.session.execute(
        sa.select(MailEvent.at, MailEvent.kind).where(MailEvent.at >= since)
    ).all()
    totals: dict[tuple[date, EventKind], int] = {}
    for at, kind in rows:  # grouped here: one portable query on SQLite and PostgreSQL
        key = (at.date(), kind)
        totals[key] = totals.get(key, 0) + 1
    return [
        DayCount(day, kind, count)
        for (day, kind), count in sorted(
            totals.items(), key=lambda item: (item[0][0], item[0][1].value)
        )
    ]
