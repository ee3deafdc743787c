"""Counts for the staff pages, and the dashboard's figures over the weeks.

Counting a million subscribers by status takes a few hundred milliseconds on
PostgreSQL; ``cached`` keeps a figure for ``DASHBOARD_CACHE_SECONDS`` in this process and
counts again in the background once it is older, so that the staff home stays fast
however often it is opened (it says how old its figures are)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app

from newsletter.dbtypes import UTCDateTime
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

T = TypeVar("T")
_cache: dict[tuple[int, str], tuple[float, datetime, Any]] = {}  # (counted, at, value)
_cache_lock = threading.Lock()
_refreshing: set[tuple[int, str]] = set()
log = logging.getLogger(__name__)


def cached(key: str, compute: Callable[[], T]) -> tuple[T, datetime]:
    """``compute()`` and when it was computed, kept for ``DASHBOARD_CACHE_SECONDS`` in
    this process (0: computed each time). Once kept figures are older, the next view
    still gets them and a thread of this process counts again, so no view waits for a
    count but the very first. The value must hold plain data, no ORM rows."""
    seconds = float(current_app.config["DASHBOARD_CACHE_SECONDS"])
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    slot = (id(app), key)
    with _cache_lock:
        found = _cache.get(slot)
        stale = found is not None and time.monotonic() - found[0] >= seconds
        refresh = seconds > 0 and stale and slot not in _refreshing
        if refresh:
            _refreshing.add(slot)
    if seconds > 0 and found is not None:
        if refresh:
            threading.Thread(target=_refresh, args=(app, slot, compute), daemon=True).start()
        return found[2], found[1]
    value, at = compute(), utcnow()
    if seconds > 0:
        with _cache_lock:
            _cache[slot] = (time.monotonic(), at, value)
    return value, at


def _refresh(app: Any, slot: tuple[int, str], compute: Callable[[], Any]) -> None:
    try:
        with app.app_context():
            value, at = compute(), utcnow()
            db.session.remove()
        with _cache_lock:
            _cache[slot] = (time.monotonic(), at, value)
    except Exception:  # a thread has no one else to tell; the old figures stay
        log.exception("counting the dashboard's figures failed")
    finally:
        with _cache_lock:
            _refreshing.discard(slot)


def subscriber_counts() -> dict[SubscriberStatus, int]:
    rows = db.session.execute(
        sa.select(Subscriber.status, sa.func.count(Subscriber.id)).group_by(Subscriber.status)
    )
    counts = dict.fromkeys(SubscriberStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


@dataclass(frozen=True)
class ListSize:
    id: int
    name: str
    is_default: bool
    is_public: bool
    active: int


def list_sizes() -> list[ListSize]:
    """Each list with its number of active subscribers (plain values: they may be kept
    beyond the session that read them, see ``cached``)."""
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
    return [
        ListSize(lst.id, lst.name, lst.is_default, lst.is_public, int(count)) for lst, count in rows
    ]


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


@dataclass(frozen=True)
class Week:
    start: datetime  # Monday 00:00 UTC
    joined: int  # consent given: confirmed, or added or imported with a consent note
    left: int  # unsubscribed, bounced or complained
    active: int  # active subscribers at the end of the week (see ``weekly``)


_WEEK_SECONDS = 7 * 24 * 3600
JOINED = (ConsentAction.CONFIRMED, ConsentAction.ADDED, ConsentAction.IMPORTED)
STOPPED = (SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)


def week_starts(weeks: int, now: datetime | None = None) -> list[datetime]:
    """The Mondays (00:00 UTC) of the last ``weeks`` weeks, this one last."""
    now = now or utcnow()
    monday = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def per_week_query(column: Any, since: datetime, *where: Any) -> sa.Select[Any]:
    """(week, rows) since ``since`` (week 0 its first), over a range of ``column`` (an
    indexed time): one scan of the weeks shown, whatever the table's size."""
    start = sa.literal(since, UTCDateTime())
    if db.session.get_bind().dialect.name == "postgresql":
        week: Any = sa.func.floor(sa.extract("epoch", column - start) / _WEEK_SECONDS)
    else:
        week = sa.cast((sa.func.julianday(column) - sa.func.julianday(start)) / 7, sa.Integer)
    return (
        sa.select(week.label("week"), sa.func.count())
        .where(column >= start, *where)
        .group_by(sa.literal_column("week"))
    )


def _per_week(column: Any, since: datetime, *where: Any) -> dict[int, int]:
    rows = db.session.execute(per_week_query(column, since, *where))
    return {int(number): int(count) for number, count in rows}


def weekly(
    weeks: int = 12, now: datetime | None = None, *, active: int | None = None
) -> list[Week]:
    """Confirmations and departures per week, and the active count at each week's end.

    The active count now is exact; earlier ones are worked back from it with the weeks'
    joins and departures (people erased since are in neither), so the chart costs a few
    aggregate queries over the weeks shown, not a scan of every subscriber's history."""
    starts = week_starts(weeks, now)
    since = starts[0]
    joined = _per_week(ConsentEvent.at, since, ConsentEvent.action.in_(JOINED))
    unsubscribed = _per_week(
        ConsentEvent.at, since, ConsentEvent.action == ConsentAction.UNSUBSCRIBED
    )
    # Mail stopped by the mailbox (bounced, complained): counted here unless it left
    # consent evidence too (``stop_mail`` records one; the send loop's bounce count not).
    recorded = sa.exists().where(
        ConsentEvent.subscriber_id == Subscriber.id,
        ConsentEvent.action == ConsentAction.UNSUBSCRIBED,
        ConsentEvent.at >= Subscriber.status_changed_at,
    )
    stopped = _per_week(
        Subscriber.status_changed_at, since, Subscriber.status.in_(STOPPED), ~recorded
    )
    if active is None:  # the active count now, unless the caller has it
        active = subscriber_counts()[SubscriberStatus.ACTIVE]
    rows: list[Week] = []
    for index in range(weeks - 1, -1, -1):
        left = unsubscribed.get(index, 0) + stopped.get(index, 0)
        rows.append(Week(starts[index], joined.get(index, 0), left, active))
        active = max(active - joined.get(index, 0) + left, 0)
    return rows[::-1]
