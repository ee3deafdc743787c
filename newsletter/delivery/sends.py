"""The life of a send: start (freezing the audience), schedule, pause, resume, cancel,
finish.

Status changes are compare-and-set updates, so two staff members (or a worker and a
staff member) acting at once cannot both start a send or undo each other's pause.
Services flush; callers commit, then hand the send to ``execution``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from newsletter.database import compare_and_set, rows_changed
from newsletter.delivery.models import OPEN_STATUSES, Delivery, DeliveryStatus
from newsletter.digests import archive
from newsletter.digests.models import Digest, DigestStatus, digest_lists
from newsletter.extensions import db
from newsletter.settings import services as site_settings
from newsletter.subscriptions.models import Membership, Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput

_STARTABLE = (DigestStatus.DRAFT, DigestStatus.SCHEDULED)


def _audience_query(digest_id: int) -> sa.Select:
    """Active subscribers of the digest's lists, each once (a semi-join: no DISTINCT to
    sort or hash however many lists a person is on)."""
    on_a_list = sa.exists().where(
        Membership.subscriber_id == Subscriber.id,
        Membership.list_id == digest_lists.c.list_id,
        digest_lists.c.digest_id == digest_id,
    )
    return sa.select(Subscriber.id).where(Subscriber.status == SubscriberStatus.ACTIVE, on_a_list)


def audience_ids(digest: Digest) -> sa.Select:
    """The ids of the people a send started now would reach (a subquery's select)."""
    return _audience_query(digest.id)


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
        raise InvalidInput(_l("This digest has no items yet: add summary points first."))
    if not digest.lists:
        raise InvalidInput(_l("Choose at least one list to send to."))
    archived = [lst.name for lst in digest.lists if lst.archived_at is not None]
    if archived:
        raise InvalidInput(f"The list {archived[0]} is archived: choose the lists again.")
    site_settings.require_identity()


def _transition(
    digest: Digest, allowed: tuple[DigestStatus, ...], status: DigestStatus, **values: object
) -> bool:
    return compare_and_set(digest, Digest.status.in_(allowed), status=status, **values)


def _choose_archive(digest: Digest, in_archive: bool | None) -> None:
    """Publish or not as staff chose; with no choice, as scheduled, or the default."""
    if in_archive is not None:
        digest.in_archive = in_archive
    elif digest.status != DigestStatus.SCHEDULED:
        digest.in_archive = archive.publishes_by_default(digest)


def start_send(
    digest: Digest, now: datetime | None = None, *, in_archive: bool | None = None
) -> int:
    """Freeze the audience (one delivery per active subscriber of the target lists, in one
    INSERT … SELECT) and mark the digest as sending; return the audience size.
    ``in_archive`` publishes it (None: as chosen when scheduled, or the default rule)."""
    now = now or utcnow()
    _check_ready(digest)
    if digest.status not in _STARTABLE:
        raise InvalidInput(f"This digest is {digest.status.value} already.")
    _choose_archive(digest, in_archive)
    archive.freeze(digest, now)
    if not _transition(
        digest, _STARTABLE, DigestStatus.SENDING, send_started_at=now, pause_reason=""
    ):
        raise InvalidInput(_l("This digest has just been started by someone else."))
    audience = _audience_query(digest.id).subquery()
    # In subscriber order: each new row lands beside the last one in the unique index
    # (digest, subscriber) and in the subscribers' key, instead of on a random page.
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
                audience.c.id,
                sa.literal(DeliveryStatus.QUEUED.value),
                sa.literal(0),
                sa.literal(now, type_=Delivery.__table__.c.next_attempt_at.type),
                sa.literal(""),
            ).order_by(audience.c.id),
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


def schedule(
    digest: Digest,
    when: datetime,
    now: datetime | None = None,
    *,
    in_archive: bool | None = None,
) -> None:
    now = now or utcnow()
    _check_ready(digest)
    if digest.status == DigestStatus.SCHEDULED and in_archive is None:
        in_archive = digest.in_archive
    digest.in_archive = archive.publishes_by_default(digest) if in_archive is None else in_archive
    if when <= now + timedelta(seconds=30):
        raise InvalidInput(_l("Choose a time in the future, or send now."), "when")
    if not _transition(
        digest, _STARTABLE, DigestStatus.SCHEDULED, scheduled_at=when, pause_reason=""
    ):
        raise InvalidInput(f"This digest is {digest.status.value}; it cannot be scheduled.")


def unschedule(digest: Digest) -> None:
    if not _transition(digest, (DigestStatus.SCHEDULED,), DigestStatus.DRAFT, scheduled_at=None):
        raise InvalidInput(_l("This digest is not scheduled."))


def due_for_start(now: datetime | None = None) -> list[int]:
    """Scheduled digests whose time has come, oldest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(Digest.id)
            .where(Digest.status == DigestStatus.SCHEDULED, Digest.scheduled_at <= now)
            .order_by(Digest.scheduled_at, Digest.id)
        )
    )


def start_scheduled(digest_id: int, now: datetime | None = None) -> bool:
    """Start one scheduled digest at its time; True if it started. One that cannot be
    sent as it stands goes back to draft with the reason (see ``not_started``)."""
    digest = db.session.get(Digest, digest_id)
    if digest is None or digest.status != DigestStatus.SCHEDULED:
        return False
    try:
        start_send(digest, now)
    except InvalidInput as exc:
        not_started(digest_id, str(exc))
        return False
    return True


def not_started(digest_id: int, why: str) -> None:
    """Back to draft, with the reason staff see on the digest's page."""
    reason = f"Could not start at the scheduled time: {why}"
    db.session.execute(
        sa.update(Digest)
        .where(Digest.id == digest_id, Digest.status == DigestStatus.SCHEDULED)
        .values(status=DigestStatus.DRAFT, pause_reason=reason[:2000])
        .execution_options(synchronize_session=False)
    )


def pause(digest: Digest, reason: str = "paused by staff") -> None:
    if not _transition(digest, (DigestStatus.SENDING,), DigestStatus.PAUSED, pause_reason=reason):
        raise InvalidInput(
            f"This digest is {digest.status.value}; only a send in progress can pause."
        )


def pause_by_id(digest_id: int, reason: str) -> bool:
    """Pause from a worker (no ORM object at hand); False if it was not sending."""
    return bool(
        rows_changed(
            sa.update(Digest)
            .where(Digest.id == digest_id, Digest.status == DigestStatus.SENDING)
            .values(status=DigestStatus.PAUSED, pause_reason=reason[:2000])
        )
    )


def resume(digest: Digest) -> None:
    if not _transition(digest, (DigestStatus.PAUSED,), DigestStatus.SENDING, pause_reason=""):
        raise InvalidInput(f"This digest is {digest.status.value}; only a paused send can resume.")


def cancel(digest: Digest) -> int:
    """Stop a send (or a schedule) for good; return how many deliveries will not happen.
    Messages already handed to the server stay sent."""
    allowed = (DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.SCHEDULED)
    if not _transition(digest, allowed, DigestStatus.CANCELLED):
        raise InvalidInput(f"This digest is {digest.status.value}; it cannot be cancelled.")
    return rows_changed(
        sa.update(Delivery)
        .where(
            Delivery.digest_id == digest.id,
            Delivery.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.RETRY]),
        )
        .values(status=DeliveryStatus.CANCELLED)
    )


def finish_if_done(digest_id: int, now: datetime | None = None) -> bool:
    """Mark a send finished once no delivery is open; True if this call did it."""
    open_count = db.session.scalar(
        sa.select(sa.func.count(Delivery.id)).where(
            Delivery.digest_id == digest_id, Delivery.status.in_(OPEN_STATUSES)
        )
    )
    if open_count:
        return False
    return bool(
        rows_changed(
            sa.update(Digest)
            .where(Digest.id == digest_id, Digest.status == DigestStatus.SENDING)
            .values(status=DigestStatus.SENT, sent_at=now or utcnow())
        )
    )


def release_stale_claims(digest_id: int, older_than: timedelta, now: datetime | None = None) -> int:
    """Give back deliveries claimed by a worker that stopped working on them (it died):
    they are sent again; the one it had in flight may arrive twice."""
    cutoff = (now or utcnow()) - older_than
    return rows_changed(
        sa.update(Delivery)
        .where(
            Delivery.digest_id == digest_id,
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.claimed_at < cutoff,
        )
        .values(status=DeliveryStatus.QUEUED, claimed_by=None, claimed_at=None)
    )
