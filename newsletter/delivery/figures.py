"""A send's figures: its progress (for the live page and the progress bar) and the
per-recipient delivery log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.delivery.models import Delivery, DeliveryStatus
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber
from newsletter.timeutil import utcnow


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    failed: int
    retrying: int
    queued: int
    in_flight: int
    skipped: int
    cancelled: int
    rate: float  # messages accepted per second over the last minute
    next_retry_at: datetime | None

    @property
    def left(self) -> int:
        return self.queued + self.in_flight + self.retrying

    @property
    def done(self) -> int:
        return self.total - self.left

    @property
    def seconds_left(self) -> float | None:
        if not self.left:
            return 0.0
        return self.left / self.rate if self.rate > 0 else None

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total, "sent": self.sent, "failed": self.failed,
            "retrying": self.retrying, "queued": self.queued, "in_flight": self.in_flight,
            "skipped": self.skipped, "cancelled": self.cancelled, "left": self.left,
            "rate": round(self.rate, 1), "seconds_left": self.seconds_left,
            "next_retry_at": self.next_retry_at.isoformat() if self.next_retry_at else None,
        }  # fmt: skip


def progress(digest_id: int, now: datetime | None = None) -> Progress:
    now = now or utcnow()
    counts = dict(
        db.session.execute(
            sa.select(Delivery.status, sa.func.count(Delivery.id))
            .where(Delivery.digest_id == digest_id)
            .group_by(Delivery.status)
        ).all()
    )
    recent = db.session.scalar(
        sa.select(sa.func.count(Delivery.id)).where(
            Delivery.digest_id == digest_id, Delivery.sent_at >= now - timedelta(seconds=60)
        )
    )
    next_retry = db.session.scalar(
        sa.select(sa.func.min(Delivery.next_attempt_at)).where(
            Delivery.digest_id == digest_id, Delivery.status == DeliveryStatus.RETRY
        )
    )
    started = db.session.scalar(sa.select(Digest.send_started_at).where(Digest.id == digest_id))
    window = 60.0
    if started is not None:
        window = max(1.0, min(60.0, (now - started).total_seconds()))
    return Progress(
        total=sum(counts.values()),
        sent=counts.get(DeliveryStatus.SENT, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0),
        retrying=counts.get(DeliveryStatus.RETRY, 0),
        queued=counts.get(DeliveryStatus.QUEUED, 0),
        in_flight=counts.get(DeliveryStatus.SENDING, 0),
        skipped=counts.get(DeliveryStatus.SKIPPED, 0),
        cancelled=counts.get(DeliveryStatus.CANCELLED, 0),
        rate=(recent or 0) / window,
        next_retry_at=next_retry,
    )


@dataclass(frozen=True)
class LogEntry:
    email: str | None  # None once the subscriber was erased
    status: DeliveryStatus
    attempts: int
    answer: str
    sent_at: datetime | None
    next_attempt_at: datetime


def delivery_log(
    digest_id: int, status: DeliveryStatus | None, page: int, per_page: int = 50
) -> tuple[list[LogEntry], int]:
    """One page of the per-recipient log (newest activity first) and the page count."""
    query = (
        sa.select(
            Subscriber.email, Delivery.status, Delivery.attempts, Delivery.last_response,
            Delivery.sent_at, Delivery.next_attempt_at,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id, isouter=True)
        .where(Delivery.digest_id == digest_id)
    )  # fmt: skip
    counter = sa.select(sa.func.count(Delivery.id)).where(Delivery.digest_id == digest_id)
    if status is not None:
        query = query.where(Delivery.status == status)
        counter = counter.where(Delivery.status == status)
    total = int(db.session.scalar(counter) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        query.order_by(Delivery.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return [LogEntry(*row) for row in rows], pages
