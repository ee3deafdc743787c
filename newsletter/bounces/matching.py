"""Whom a returned message is about.

In order: the signed VERP address it came back to (an unsigned or forged one matches
no one, and nothing else is tried); else our ``Message-ID`` in the returned headers;
else the recipient the report names (``Final-Recipient``, ``Original-Recipient``, the
bounced ``To:``), and only when that is a subscriber we have mailed: nobody can make
us act on an address by naming it in a made-up report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from newsletter.bounces import verp
from newsletter.bounces.reading import Finding, Reading
from newsletter.delivery.models import Delivery, DeliveryStatus
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber

_ACTION_WEIGHT = {"failed": 3, "delayed": 2, "delivered": 1, "relayed": 1, "expanded": 0}


@dataclass(frozen=True)
class Target:
    subscriber: Subscriber
    delivery_id: int | None
    digest_id: int | None
    how: str  # "verp", "message-id" or "recipient"


@dataclass
class Match:
    pairs: list[tuple[Target, Finding | None]]
    reason: str = ""  # why no one matched


def match(reading: Reading, envelope_to: Sequence[str] = ()) -> Match:
    candidates = [*envelope_to, *reading.envelope_to, *reading.verp_addresses]
    named = [found for found in (verp.read(address) for address in candidates) if found]
    if named:
        genuine = [found for found in named if found.genuine]
        target = next((t for t in map(_from_verp, genuine) if t is not None), None)
        if target is None:
            reason = "a forged return address" if not genuine else "a return address of no one"
            return Match([], reason)
        return Match([(target, _finding_for(reading.findings, target.subscriber))])
    for value in reading.message_ids:
        delivery_id = verp.delivery_of_message_id(value)
        target = _from_delivery(delivery_id, "message-id") if delivery_id else None
        if target is not None:
            return Match([(target, _finding_for(reading.findings, target.subscriber))])
    pairs: list[tuple[Target, Finding | None]] = []
    for finding in reading.findings:
        subscriber = _mailed_subscriber(finding.address)
        if subscriber is not None and all(t.subscriber.id != subscriber.id for t, _ in pairs):
            pairs.append((Target(subscriber, None, None, "recipient"), finding))
    return Match(pairs, "" if pairs else "no one we have mailed")


def _from_verp(named: verp.Named) -> Target | None:
    if named.kind == "delivery":
        return _from_delivery(named.number, "verp")
    subscriber = db.session.get(Subscriber, named.number)
    return Target(subscriber, None, None, "verp") if subscriber is not None else None


def _from_delivery(delivery_id: int, how: str) -> Target | None:
    row = db.session.execute(
        sa.select(Delivery.subscriber_id, Delivery.digest_id).where(Delivery.id == delivery_id)
    ).first()
    if row is None or row.subscriber_id is None:  # unknown, or the person was erased
        return None
    subscriber = db.session.get(Subscriber, row.subscriber_id)
    if subscriber is None:
        return None
    return Target(subscriber, delivery_id, row.digest_id, how)


def _mailed_subscriber(address: str | None) -> Subscriber | None:
    """The subscriber at ``address`` if we have sent them mail: a digest copy, or a
    confirmation or note (which every subscriber who confirmed was sent)."""
    if not address or "@" not in address:
        return None
    subscriber = db.session.scalar(
        sa.select(Subscriber).where(Subscriber.email_key == address.strip().lower())
    )
    if subscriber is None:
        return None
    if subscriber.confirmation_sent_at is not None:
        return subscriber
    mailed = db.session.scalar(
        sa.select(Delivery.id)
        .where(
            Delivery.subscriber_id == subscriber.id,
            Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.FAILED]),
        )
        .limit(1)
    )
    return subscriber if mailed is not None else None


def _finding_for(findings: list[Finding], subscriber: Subscriber) -> Finding | None:
    """The finding about this subscriber, else the gravest one (our messages have one
    recipient each; a report about a forwarding address names another)."""
    if not findings:
        return None
    for finding in findings:
        if finding.address and finding.address.lower() == subscriber.email_key:
            return finding
    return max(findings, key=lambda finding: _ACTION_WEIGHT.get(finding.action, 0))
