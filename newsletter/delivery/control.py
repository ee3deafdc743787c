"""Starting, scheduling, pausing, resuming and cancelling sends, and their figures.

Status changes are compare-and-set updates, so two staff members (or a worker and a
staff member) acting at once cannot both start a send or undo each other's pause.
Services flush; callers commit, then hand the send to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter.delivery.models import OPEN_STATUSES, Delivery, DeliveryStatus
from newsletter.digests import archive
from newsletter.digests.models import Digest, DigestStatus, digest_lists
from newsletter.extensions import db
from newsletter.subscriptions.addresses import InvalidInput
from newsletter.subscriptions.models import Membership, Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow

_STARTABLE = (DigestStatus.DRAFT, DigestStatus.SCHEDULED)


def _audience_query(digest_id: int) -> sa.Select:
    """Active subscribers of the digest's lists, each once."""
    return (
        sa.select(Subscriber.id)
        .join(Membership, Membership.subscriber_id == Subscriber.id)
        .join(digest_lists, digest_lists.c.list_id == Membership.list_id)
        .where(digest_lists.c.digest_id == digest_id, Subscriber.status == SubscriberStatus.ACTIVE)
        .distinct()
    )


def audience_size(digest: Digest) -> int:
    """How many people a send started now would reach."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count()).select_from(_audience_query(digest.id).subquery())
        )
        or 0
    )


def _check_ready(digest: Digest) -> None:
    if not digest.items:
        raise InvalidInput("This digest has no items yet: add summary points first.")
    if not digest.lists:
        raise InvalidInput("Choose at least one list to send to.")


def _transition(
    digest: Digest, allowed: tuple[DigestStatus, ...], status: DigestStatus, **values: object
) -> bool:
    db.session.flush()
    changed = db.session.execute(
        sa.update(Digest)
        .where(Digest.id == digest.id, Digest.status.in_(allowed))
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(digest)
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def start_send(digest: Digest, now: datetime | None = None) -> int:
    """Freeze the audience (one delivery per active subscriber of the target lists, in one
    INSERT … SELECT) and mark the digest as sending; return the audience size."""
    now = now or utcnow()
    _check_ready(digest)
    if digest.status not in _STARTABLE:
        raise InvalidInput(f"This digest is {digest.status.value} already.")
    archive.freeze(digest, now)
    if not _transition(
        digest, _STARTABLE, DigestStatus.SENDING, send_started_at=now, pause_reason=""
    ):
        raise InvalidInput("This digest has just been started by someone else.")
    db.session.execute(
        sa.insert(Delivery).from_select(
            [
                "digest_id",
                "subscriber_id",
                "status",
                "attempts",
                "next_attempt_at",
                "last_response",
            ],
            sa.select(
                sa.literal(digest.id),
                _audience_query(digest.id).subquery().c.id,
                sa.literal(DeliveryStatus.QUEUED.value),
                sa.literal(0),
                sa.literal(now, type_=Delivery.__table__.c.next_attempt_at.type),
                sa.literal(""),
            ),
        )
    )
    size = int(
        db.session.scalar(
            sa.select(sa.func.count(Delivery.id)).where(Delivery.digest_id == digest.id)
        )
        or 0
    )
    db.session.execute(sa.update(Digest).where(Digest.id == digest.id).values(audience_size=size))
    db.session.expire(digest)
    if size == 0:
        finish_if_done(digest.id, now)
    return size


def schedule(digest: Digest, when: datetime, now: datetime | None = None) -> None:
    now = now or utcnow()
    _check_ready(digest)
    if when <= now + timedelta(seconds=30):
        raise InvalidInput("Choose a time in the future, or send now.", "when")
    if not _transition(digest, _STARTABLE, DigestStatus.SCHEDULED, scheduled_at=when):
        raise InvalidInput(f"This digest is {digest.status.value}; it cannot be scheduled.")


def unschedule(digest: Digest) -> None:
    if not _transition(digest, (DigestStatus.SCHEDULED,), DigestStatus.DRAFT, scheduled_at=None):
        raise InvalidInput("This digest is not scheduled.")


def start_due(now: datetime | None = None) -> list[int]:
    """Start every scheduled digest whose time has come; return their ids."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Digest).where(Digest.status == DigestStatus.SCHEDULED, Digest.scheduled_at <= now)
    ).all()
    started = []
    for digest in due:
        try:
            start_send(digest, now)
        except InvalidInput as exc:
            pause_reason = f"Could not start at the scheduled time: {exc}"
            _transition(
                digest, (DigestStatus.SCHEDULED,), DigestStatus.DRAFT, pause_reason=pause_reason
            )
        else:
            started.append(digest.id)
    return started


def pause(digest: Digest, reason: str = "paused by staff") -> None:
    if not _transition(digest, (DigestStatus.SENDING,), DigestStatus.PAUSED, pause_reason=reason):
        raise InvalidInput(
            f"This digest is {digest.status.value}; only a send in progress can pause."
        )


def pause_by_id(digest_id: int, reason: str) -> bool:
    """Pause from a worker (no ORM object at hand); False if it was not sending."""
    changed = db.session.execute(
        sa.update(Digest)
        .where(Digest.id == digest_id, Digest.status == DigestStatus.SENDING)
        .values(status=DigestStatus.PAUSED, pause_reason=reason[:2000])
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def resume(digest: Digest) -> None:
    if not _transition(digest, (DigestStatus.PAUSED,), DigestStatus.SENDING, pause_reason=""):
        raise InvalidInput(f"This digest is {digest.status.value}; only a paused send can resume.")


def cancel(digest: Digest) -> int:
    """Stop a send (or a schedule) for good; return how many deliveries will not happen.
    Messages already handed to the server stay sent."""
    allowed = (DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.SCHEDULED)
    if not _transition(digest, allowed, DigestStatus.CANCELLED):
        raise InvalidInput(f"This digest is {digest.status.value}; it cannot be cancelled.")
    dropped = db.session.execute(
        sa.update(Delivery)
        .where(
            Delivery.digest_id == digest.id,
            Delivery.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.RETRY]),
        )
        .values(status=DeliveryStatus.CANCELLED)
    )
    return int(dropped.rowcount or 0)  # type: ignore[attr-defined]


def finish_if_done(digest_id: int, now: datetime | None = None) -> bool:
    """Mark a send finished once no delivery is open; True if this call did it."""
    open_count = db.session.scalar(
        sa.select(sa.func.count(Delivery.id)).where(
            Delivery.digest_id == digest_id, Delivery.status.in_(OPEN_STATUSES)
        )
    )
    if open_count:
        return False
    changed = db.session.execute(
        sa.update(Digest)
        .where(Digest.id == digest_id, Digest.status == DigestStatus.SENDING)
        .values(status=DigestStatus.SENT, sent_at=now or utcnow())
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def release_stale_claims(digest_id: int, older_than: timedelta, now: datetime | None = None) -> int:
    """Give back deliveries claimed by a worker that stopped working on them (it died):
    they are sent again; the one it had in flight may arrive twice."""
    cutoff = (now or utcnow()) - older_than
    released = db.session.execute(
        sa.update(Delivery)
        .where(
            Delivery.digest_id == digest_id,
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_at < cutoff,
        )
        .values(status=DeliveryStatus.QUEUED, claimed_by=None, claimed_at=None)
    )
    return int(released.rowcount or 0)  # type: ignore[attr-defined]


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
