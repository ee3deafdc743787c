"""How sending is going, for the staff home: the last sends' figures and what needs
attention (a paused send, a rising bounce or complaint rate, DKIM, receivers refusing
us, replies waiting).

Every figure is an aggregate over a handful of digests (indexed by digest), so the
dashboard costs the same with a thousand subscribers or a million.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from newsletter.bounces import kept
from newsletter.bounces.models import EventKind, MailEvent
from newsletter.delivery.models import Delivery, DeliveryStatus
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db

# A send is flagged when its rate is past both the floor and twice the earlier sends'
# median. Floors: mailbox providers ask senders to stay under 0.3 % complaints (Gmail,
# Yahoo, 2024); 2 % bounces is the usual sign of an old or bought list.
BOUNCE_FLOOR = 0.02
COMPLAINT_FLOOR = 0.001
_BOUNCES = (EventKind.HARD_BOUNCE, EventKind.SOFT_BOUNCE)
_SHOWN = (DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.SENT)


@dataclass(frozen=True)
class SendFigures:
    digest_id: int
    subject: str
    status: DigestStatus
    delivered: int  # accepted by the receiving server
    failed: int  # refused at once, or out of attempts
    bounced: int  # came back later (bounce reports)
    complaints: int

    @property
    def bounce_rate(self) -> float:
        return (self.bounced + self.failed) / self.delivered if self.delivered else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.delivered if self.delivered else 0.0


@dataclass(frozen=True)
class Notice:
    text: str
    link: tuple[str, str] | None = None  # (endpoint, label)
    link_args: tuple[tuple[str, object], ...] = ()
    severe: bool = True


def recent_sends(limit: int = 6) -> list[SendFigures]:
    """The last sends (oldest first, as a chart reads): delivered, failed, bounced."""
    digests = db.session.execute(
        sa.select(Digest.id, Digest.subject, Digest.status)
        .where(Digest.status.in_(_SHOWN), Digest.send_started_at.is_not(None))
        .order_by(Digest.send_started_at.desc(), Digest.id.desc())
        .limit(limit)
    ).all()
    ids = [row.id for row in digests]
    if not ids:
        return []
    deliveries: dict[tuple[int, DeliveryStatus], int] = {
        (digest_id, status): int(count)
        for digest_id, status, count in db.session.execute(
            sa.select(Delivery.digest_id, Delivery.status, sa.func.count())
            .where(
                Delivery.digest_id.in_(ids),
                Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.FAILED]),
            )
            .group_by(Delivery.digest_id, Delivery.status)
        )
    }
    events: dict[tuple[int | None, EventKind], int] = {
        (digest_id, kind): int(count)
        for digest_id, kind, count in db.session.execute(
            sa.select(MailEvent.digest_id, MailEvent.kind, sa.func.count())
            .where(
                MailEvent.digest_id.in_(ids),
                MailEvent.kind.in_([*_BOUNCES, EventKind.COMPLAINT]),
            )
            .group_by(MailEvent.digest_id, MailEvent.kind)
        )
    }
    return [
        SendFigures(
            digest_id=row.id,
            subject=row.subject,
            status=row.status,
            delivered=deliveries.get((row.id, DeliveryStatus.SENT), 0),
            failed=deliveries.get((row.id, DeliveryStatus.FAILED), 0),
            bounced=sum(events.get((row.id, kind), 0) for kind in _BOUNCES),
            complaints=events.get((row.id, EventKind.COMPLAINT), 0),
        )
        for row in reversed(digests)
    ]


def _rising(latest: float, earlier: list[float], floor: float) -> bool:
    baseline = statistics.median(earlier) if earlier else 0.0
    return latest > floor and latest > 2 * baseline


def dkim_state() -> str:
    """What can be said about DKIM here: whether it is set up; never that DNS publishes
    the matching public key (that needs a DNS lookup this page does not make)."""
    config = current_app.config
    key = config.get("DKIM_PRIVATE_KEY") or config.get("DKIM_PRIVATE_KEY_FILE")
    if not (config.get("DKIM_DOMAIN") and config.get("DKIM_SELECTOR") and key):
        return "not configured"
    return "configured, not verified here"


def attention(sends: list[SendFigures]) -> list[Notice]:
    """What staff should look at, most urgent first."""
    notices: list[Notice] = []
    paused = db.session.execute(
        sa.select(Digest.id, Digest.subject, Digest.pause_reason).where(
            Digest.status == DigestStatus.PAUSED
        )
    ).all()
    for digest_id, subject, reason in paused:
        notices.append(
            Notice(
                f"“{subject}” is paused: {reason or 'by staff'}",
                ("staff.digests_progress", "Open the send"),
                (("digest_id", digest_id),),
            )
        )
    waiting = kept.unhandled_counts()
    if waiting[kept.ALERT]:
        notices.append(
            Notice(
                f"Receivers refused our mail, blaming our setup ({waiting[kept.ALERT]} not "
                "handled): check the sending domain's DNS and reputation.",
                ("staff.inbound", "See the alerts"),
            )
        )
    finished = [send for send in sends if send.delivered]
    if finished:
        latest, earlier = finished[-1], finished[:-1]
        if _rising(latest.bounce_rate, [s.bounce_rate for s in earlier], BOUNCE_FLOOR):
            notices.append(
                Notice(
                    f"Bounces are rising: {latest.bounce_rate:.1%} of “{latest.subject}”.",
                    ("staff.digests_deliveries", "Delivery log"),
                    (("digest_id", latest.digest_id),),
                )
            )
        if _rising(latest.complaint_rate, [s.complaint_rate for s in earlier], COMPLAINT_FLOOR):
            notices.append(
                Notice(
                    f"Spam complaints are rising: {latest.complaint_rate:.2%} of "
                    f"“{latest.subject}” (providers ask for under 0.3 %)."
                )
            )
    if dkim_state() == "not configured":
        notices.append(
            Notice(
                "DKIM not configured: digests go out unsigned, and many providers file "
                "unsigned bulk mail as spam (NEWSLETTER_DKIM_*).",
                severe=False,
            )
        )
    if waiting[kept.REPLY]:
        notices.append(
            Notice(
                f"Replies from readers waiting to be read: {waiting[kept.REPLY]}.",
                ("staff.inbound", "Read the replies"),
                severe=False,
            )
        )
    return notices
