"""Staff-side operations on subscribers: add one, apply an imported row, purge stale ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from newsletter import i18n
from newsletter.database import rows_changed
from newsletter.extensions import db
from newsletter.subscriptions import services
from newsletter.subscriptions.emails import send_confirmation
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    MailingList,
    Subscriber,
    SubscriberSource,
    SubscriberStatus,
)
from newsletter.timeutil import utcnow
from newsletter.validation import (
    Address,
    InvalidInput,
    clean_block,
    clean_text,
    normalize_address,
)

# Statuses a person chose (or their mailbox forced); staff never override them, one by
# one or in bulk (``bulk`` applies the same rules to a batch).
REFUSED = {
    SubscriberStatus.UNSUBSCRIBED: "unsubscribed",
    SubscriberStatus.COMPLAINED: "reported our mail as spam",
    SubscriberStatus.BOUNCED: "bounced",
}
ERASED = "this address was erased at the person's request; only they can subscribe again"
CONFIRMATION_ASKED = "{} by staff; confirmation asked"


def refusal(status: SubscriberStatus, since: datetime) -> str:
    """Why a person is not re-added (``status`` is one of ``REFUSED``)."""
    return f"this person {REFUSED[status]} on {since.date().isoformat()}; not re-added"


@dataclass(frozen=True)
class Outcome:
    subscriber: Subscriber
    created: bool
    changed: bool


def add_subscriber(
    email: str,
    *,
    name: str = "",
    organisation: str = "",
    lists: list[MailingList],
    consent_note: str | None,
    source: SubscriberSource = SubscriberSource.CLI,
    language: str = "",
    now: datetime | None = None,
) -> Outcome:
    """Add (or complete) a subscriber: active at once with a note of the consent staff
    hold elsewhere, or (``consent_note`` None) pending with a confirmation link."""
    now = now or utcnow()
    address = normalize_address(email)
    if consent_note:
        consent_note = clean_block(consent_note, "consent_note", 2000, label="consent note")
    existing = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == address.key))
    return apply_row(
        address,
        existing,
        name=clean_text(name, "name"),
        organisation=clean_text(organisation, "organisation"),
        lists=lists,
        consent_note=consent_note,
        language=i18n.check_language(language),
        action=ConsentAction.ADDED,
        source=source,
        now=now,
    )


def apply_row(
    address: Address,
    existing: Subscriber | None,
    *,
    name: str,
    organisation: str,
    lists: list[MailingList],
    consent_note: str | None,
    action: ConsentAction,
    now: datetime,
    source: SubscriberSource = SubscriberSource.CLI,
    language: str = "",
) -> Outcome:
    """Create or complete one subscriber from staff input.

    With a consent note the person is active at once; without one they are pending
    and get a confirmation link. People who left, complained or bounced are refused
    (InvalidInput), and so are erased addresses: only they can subscribe again.
    """
    origin = services.Origin()
    if existing is None:
        if services.is_suppressed(address.key):
            raise InvalidInput(ERASED)
        subscriber = Subscriber(
            email=address.email,
            email_key=address.key,
            name=name,
            organisation=organisation,
            source=source,
            language=language,
        )
        db.session.add(subscriber)
        services.replace_memberships(subscriber, lists)
        _start(subscriber, lists, consent_note, action, origin, now)
        return Outcome(subscriber, created=True, changed=True)

    if existing.status in REFUSED:
        raise InvalidInput(refusal(existing.status, existing.status_changed_at))
    changed = False
    if name and not existing.name:
        existing.name, changed = name, True
    if organisation and not existing.organisation:
        existing.organisation, changed = organisation, True
    if language and not existing.language:
        existing.language, changed = language, True
    present = {membership.list_id for membership in existing.memberships}
    missing = [mailing_list for mailing_list in lists if mailing_list.id not in present]
    if missing:
        current = [membership.mailing_list for membership in existing.memberships]
        services.replace_memberships(existing, current + missing)
        changed = True
    if existing.status == SubscriberStatus.PENDING and consent_note:
        _start(existing, lists, consent_note, action, origin, now)
        changed = True
    return Outcome(existing, created=False, changed=changed)


def _start(
    subscriber: Subscriber,
    lists: list[MailingList],
    consent_note: str | None,
    action: ConsentAction,
    origin: services.Origin,
    now: datetime,
) -> None:
    if consent_note:
        services.activate(subscriber, now)
        services.record(subscriber, action, now, origin, None, lists, note=consent_note)
    else:
        services.set_status(subscriber, SubscriberStatus.PENDING, now)
        services.record(
            subscriber,
            ConsentAction.REQUESTED,
            now,
            origin,
            None,
            lists,
            note=CONFIRMATION_ASKED.format(action.value),
        )
        subscriber.confirmation_sent_at = now
        send_confirmation(subscriber, lists)


def purge_pending(older_than: timedelta, now: datetime | None = None) -> tuple[int, int]:
    """Delete pending subscribers who never confirmed within ``older_than``; return
    (deleted, reverted).

    Someone who had been subscribed before and asked again keeps their record (and
    their history) as unsubscribed instead: they are the reverted ones.
    """
    now = now or utcnow()
    cutoff = now - older_than
    stale = sa.select(Subscriber.id).where(
        Subscriber.status == SubscriberStatus.PENDING, Subscriber.status_changed_at < cutoff
    )
    had_consent = sa.select(ConsentEvent.subscriber_id).where(
        ConsentEvent.action.in_(
            [ConsentAction.CONFIRMED, ConsentAction.ADDED, ConsentAction.IMPORTED]
        )
    )
    reverted = rows_changed(
        sa.update(Subscriber)
        .where(Subscriber.id.in_(stale), Subscriber.id.in_(had_consent))
        .values(status=SubscriberStatus.UNSUBSCRIBED, status_changed_at=now)
        .execution_options(synchronize_session=False)
    )
    deleted = rows_changed(
        sa.delete(Subscriber)
        .where(Subscriber.id.in_(stale))
        .execution_options(synchronize_session=False)
    )
    return deleted, reverted


def consent_history(subscriber: Subscriber) -> list[ConsentEvent]:
    query = (
        sa.select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    return list(db.session.scalars(query))
