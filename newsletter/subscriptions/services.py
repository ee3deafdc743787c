"""A reader's subscription life: ask, confirm, change preferences, leave, be erased.

Services flush and never commit; mail they send leaves after the caller commits.
Nothing here tells a caller whether an address was already known: the public
answers are the same for every state (no enumeration).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from newsletter import i18n
from newsletter.bounces.models import InboundMessage
from newsletter.database import by_public_id, compare_and_set, insert_or_ignore
from newsletter.delivery.models import Delivery
from newsletter.extensions import db
from newsletter.mailing import outbox
from newsletter.mailing.models import OutgoingMail
from newsletter.mailing.transport import uses_outbox
from newsletter.settings import services as site_settings
from newsletter.subscriptions.emails import (
    send_already_subscribed,
    send_confirmation,
    send_welcome,
)
from newsletter.subscriptions.lists import default_lists, resolve_lists
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    ConsentText,
    MailingList,
    Membership,
    Subscriber,
    SubscriberSource,
    SubscriberStatus,
    Suppression,
)
from newsletter.subscriptions.suppression import suppression_hash
from newsletter.timeutil import utcnow
from newsletter.validation import Address, InvalidInput, clean_text, normalize_address

# States in which a subscriber may be asked to confirm again through the public form.
_RESUBSCRIBABLE = {
    SubscriberStatus.PENDING,
    SubscriberStatus.UNSUBSCRIBED,
    SubscriberStatus.BOUNCED,
}
_INACTIVE = set(SubscriberStatus) - {SubscriberStatus.ACTIVE}
_VERSION_RE = re.compile(r"[0-9a-f]{16}")  # what current_consent() makes


@dataclass(frozen=True)
class Origin:
    """Where a request came from, kept as consent evidence."""

    ip: str | None = None
    user_agent: str | None = None

    def clipped(self) -> Origin:
        return Origin(self.ip[:45] if self.ip else None, (self.user_agent or "")[:512] or None)


@dataclass(frozen=True)
class SubscribeRequest:
    email: str
    name: str = ""
    organisation: str = ""
    list_slugs: Sequence[str] = ()
    consent_version: str = ""
    language: str = ""  # a tag of LANGUAGES; empty: the default


class LinkNoLongerValid(Exception):
    """A genuine link whose purpose has passed (the subscription changed since)."""


# -- consent text ----------------------------------------------------------------------


_VERSION_RE = re.compile(r"[0-9a-f]{16}")  # what current_consent() makes


def current_consent() -> tuple[str, str]:
    """(version, text) of the consent wording in force; the version is its hash."""
    text = site_settings.current().consent_text
    return site_settings.consent_version(text), text


def _consent_version(shown: str, *, record: bool = True) -> str:
    """The version a form showed: the current wording (recorded on first use, unless
    ``record`` is off) or an earlier recorded one; anything else means the form was not
    ours or is stale."""
    version, text = current_consent()
    if not _VERSION_RE.fullmatch(shown or ""):
        raise InvalidInput(
            _l("This form is out of date. Please reload the page and send it again.")
        )
    # Versions seen stored (committed): a wording is never deleted, so each process
    # looks each one up once instead of on every post.
    stored: set[str] = current_app.extensions.setdefault("newsletter.consent_versions", set())
    if shown in stored:
        return shown
    if shown == version:
        if db.session.get(ConsentText, version) is not None:
            stored.add(version)
        elif record:
            site_settings.record_consent_text(text)
        return version
    if db.session.get(ConsentText, shown) is not None:
        stored.add(shown)
        return shown
    raise InvalidInput(_l("This form is out of date. Please reload the page and send it again."))


# -- lookups ---------------------------------------------------------------------------


def subscriber_by_public_id(public_id: str) -> Subscriber | None:
    return by_public_id(Subscriber, public_id)


def subscriber_by_email(email: str) -> Subscriber | None:
    address = normalize_address(email)
    return db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == address.key))


def subscriber_lists(subscriber: Subscriber) -> list[MailingList]:
    query = (
        sa.select(MailingList)
        .join(Membership, Membership.list_id == MailingList.id)
        .where(Membership.subscriber_id == subscriber.id)
        .order_by(MailingList.name)
    )
    return list(db.session.scalars(query))


# -- subscribe and confirm --------------------------------------------------------------


@dataclass(frozen=True)
class CheckedRequest:
    """A subscribe request whose input is valid, whoever sent it (``check_subscription``)."""

    address: Address
    name: str
    organisation: str
    list_ids: tuple[int, ...]
    consent_version: str
    language: str = ""


def check_subscription(request: SubscribeRequest) -> CheckedRequest:
    """Validate the form: the same reads and the same answer for every address, known
    or not (raises InvalidInput only for input that is wrong whoever typed it)."""
    lists = resolve_lists(request.list_slugs, public_only=True) or default_lists()
    return CheckedRequest(
        address=normalize_address(request.email),
        name=clean_text(request.name, "name"),
        organisation=clean_text(request.organisation, "organisation"),
        list_ids=tuple(mailing_list.id for mailing_list in lists),
        consent_version=_consent_version(request.consent_version, record=False),
        language=i18n.check_language(request.language),
    )


def request_subscription(
    request: SubscribeRequest,
    origin: Origin,
    now: datetime | None = None,
    *,
    source: SubscriberSource = SubscriberSource.FORM,
) -> None:
    """Validate and handle a subscribe request at once (commands, report requests)."""
    apply_subscription(check_subscription(request), origin, now, source=source)


def apply_subscription(
    checked: CheckedRequest,
    origin: Origin,
    now: datetime | None = None,
    *,
    source: SubscriberSource = SubscriberSource.FORM,
) -> None:
    """Handle the public subscribe form for any address in any state.

    New, pending, unsubscribed and bounced addresses become pending and get a
    confirmation link (at most once per ``CONFIRM_RESEND_MINUTES``); an active
    subscriber gets a note with a link to their preferences instead (nothing about
    them changes); a complaint address gets nothing. Raises InvalidInput only for
    input that is wrong whoever typed it.

    For someone we know already (pending, or subscribed before), whoever sent the form
    cannot rewrite what we hold: name, organisation, lists and the address's spelling
    are held (``held_changes``) and apply only when the owner confirms from their
    mailbox; the confirmation greets them with the name we had.
    """
    now = now or utcnow()
    address, name, organisation = checked.address, checked.name, checked.organisation
    lists = _lists_by_id(checked.list_ids)
    consent_version = _consent_version(checked.consent_version)

    subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == address.key))
    new = subscriber is None
    if subscriber is None:
        # New in this transaction: nobody else can have sent it anything yet (a
        # concurrent request for the address fails on the unique key and runs again).
        subscriber = Subscriber(
            email=address.email,
            email_key=address.key,
            name=name,
            organisation=organisation,
            source=source,
            language=checked.language,
        )
        subscriber.confirmation_sent_at = now
        db.session.add(subscriber)
        replace_memberships(subscriber, lists)
    elif subscriber.status == SubscriberStatus.ACTIVE:
        if _take_confirmation_slot(subscriber, now):
            send_already_subscribed(subscriber)
        return
    elif subscriber.status not in _RESUBSCRIBABLE:
        return
    else:
        subscriber.held_changes = {
            "email": address.email,
            "name": name,
            "organisation": organisation,
            "lists": [mailing_list.id for mailing_list in lists],
            "language": checked.language,
        }

    set_status(subscriber, SubscriberStatus.PENDING, now)
    origin = origin.clipped()
    record(subscriber, ConsentAction.REQUESTED, now, origin, consent_version, lists)
    if new or _take_confirmation_slot(subscriber, now):
        # In the language the form asked for (nothing typed, so it may differ from ours).
        send_confirmation(subscriber, lists, language=checked.language or subscriber.language)


def resend_confirmation(public_id: str, now: datetime | None = None) -> None:
    """A new confirmation link for a pending subscriber whose link expired."""
    now = now or utcnow()
    subscriber = subscriber_by_public_id(public_id)
    if subscriber is None or subscriber.status != SubscriberStatus.PENDING:
        return
    if _take_confirmation_slot(subscriber, now):
        send_confirmation(subscriber, lists_to_confirm(subscriber))


def confirm_subscription(
    public_id: str, origin: Origin, now: datetime | None = None
) -> tuple[Subscriber, bool]:
    """Make a pending subscriber active; return it and whether this call did it.

    Confirming twice is harmless. A link for a subscription that has since been
    cancelled (or erased) raises LinkNoLongerValid.
    """
    now = now or utcnow()
    subscriber = subscriber_by_public_id(public_id)
    if subscriber is None:
        raise LinkNoLongerValid()
    if not _transition(subscriber, {SubscriberStatus.PENDING}, SubscriberStatus.ACTIVE, now):
        if subscriber.status == SubscriberStatus.ACTIVE:
            return subscriber, False  # confirmed already, maybe by a request just now
        raise LinkNoLongerValid()
    requested = db.session.scalar(
        sa.select(ConsentEvent)
        .where(
            ConsentEvent.subscriber_id == subscriber.id,
            ConsentEvent.action == ConsentAction.REQUESTED,
        )
        .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
        .limit(1)
    )
    _apply_held_changes(subscriber)
    lists = subscriber_lists(subscriber)
    _after_activation(subscriber)
    record(
        subscriber,
        ConsentAction.CONFIRMED,
        now,
        origin.clipped(),
        requested.consent_version if requested else None,
        lists,
    )
    send_welcome(subscriber, lists)
    return subscriber, True


def lists_to_confirm(subscriber: Subscriber) -> list[MailingList]:
    """The lists confirming would subscribe to: those asked for, or those held now."""
    held = subscriber.held_changes
    if held is None:
        return subscriber_lists(subscriber)
    return _lists_by_id(held.get("lists") or [])


def _lists_by_id(ids: Sequence[int]) -> list[MailingList]:
    query = sa.select(MailingList).where(MailingList.id.in_(list(ids))).order_by(MailingList.name)
    return list(db.session.scalars(query))


def _apply_held_changes(subscriber: Subscriber) -> None:
    """What the confirmed request asked for (see ``request_subscription``)."""
    held, subscriber.held_changes = subscriber.held_changes, None
    if held is None:
        return
    subscriber.email = held.get("email") or subscriber.email
    subscriber.name = held.get("name") or subscriber.name
    subscriber.organisation = held.get("organisation") or subscriber.organisation
    subscriber.language = held.get("language") or subscriber.language
    lists = _lists_by_id(held.get("lists") or []) or default_lists()
    replace_memberships(subscriber, lists)


# -- preferences, leaving, erasure ------------------------------------------------------


def update_preferences(
    subscriber: Subscriber,
    *,
    name: str,
    organisation: str,
    list_slugs: Sequence[str],
    origin: Origin,
    language: str | None = None,
    now: datetime | None = None,
) -> None:
    """Change name, organisation, language and lists. Choosing no list leaves them all;
    choosing lists while not active subscribes again (the signed link proves the
    address)."""
    now = now or utcnow()
    if language is not None:
        subscriber.language = i18n.check_language(language)
    subscriber.name = clean_text(name, "name")
    subscriber.organisation = clean_text(organisation, "organisation")
    lists = resolve_lists(list_slugs, public_only=True)
    # Private and archived lists are kept: readers cannot see or leave them here (staff
    # manage them; an archived list's members are its history).
    kept_private = [
        m.mailing_list
        for m in subscriber.memberships
        if not m.mailing_list.is_public or m.mailing_list.archived_at is not None
    ]
    before = {m.list_id for m in subscriber.memberships}
    replace_memberships(subscriber, [*lists, *kept_private])
    origin = origin.clipped()
    if not lists and not kept_private:
        unsubscribe(subscriber, origin, note="left every list on the preferences page", now=now)
        return
    if _transition(subscriber, _INACTIVE, SubscriberStatus.ACTIVE, now):
        _after_activation(subscriber)
        record(
            subscriber,
            ConsentAction.CONFIRMED,
            now,
            origin,
            _consent_version(current_consent()[0]),
            lists,
            note="subscribed again on the preferences page",
        )
    elif before != {lst.id for lst in lists} | {lst.id for lst in kept_private}:
        record(subscriber, ConsentAction.CHANGED, now, origin, None, lists)


def unsubscribe(
    subscriber: Subscriber, origin: Origin, *, note: str = "", now: datetime | None = None
) -> bool:
    """Stop all mail to this subscriber; return False if nothing was left to stop."""
    now = now or utcnow()
    receiving = {SubscriberStatus.ACTIVE, SubscriberStatus.PENDING}
    if not _transition(subscriber, receiving, SubscriberStatus.UNSUBSCRIBED, now):
        return False
    record(subscriber, ConsentAction.UNSUBSCRIBED, now, origin.clipped(), None, [], note=note)
    return True


def stop_mail(
    subscriber: Subscriber, status: SubscriberStatus, note: str, now: datetime | None = None
) -> bool:
    """Stop all mail to this subscriber because their mailbox says so: ``BOUNCED`` (the
    address is gone) or ``COMPLAINED`` (they marked our mail as spam, which also
    overrides an earlier unsubscription or bounce). Return False if it was stopped
    already. An import never adds such a person again."""
    now = now or utcnow()
    allowed = {SubscriberStatus.ACTIVE, SubscriberStatus.PENDING}
    if status == SubscriberStatus.COMPLAINED:
        allowed |= {SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED}
    if not _transition(subscriber, allowed, status, now):
        return False
    record(subscriber, ConsentAction.UNSUBSCRIBED, now, Origin(), None, [], note=note)
    return True


def resubscribe(subscriber: Subscriber, origin: Origin, now: datetime | None = None) -> bool:
    """Undo an unsubscription from its own signed link; lists are as they were."""
    now = now or utcnow()
    if not _transition(subscriber, {SubscriberStatus.UNSUBSCRIBED}, SubscriberStatus.ACTIVE, now):
        return False
    lists = subscriber_lists(subscriber) or default_lists()
    replace_memberships(subscriber, lists)
    _after_activation(subscriber)
    record(
        subscriber,
        ConsentAction.CONFIRMED,
        now,
        origin.clipped(),
        _consent_version(current_consent()[0]),
        lists,
        note="subscribed again from the unsubscribe page",
    )
    return True


ERASED_ANSWER = "(erased at the person's request)"


def erase_subscriber(subscriber: Subscriber, reason: str = "erased") -> None:
    """Delete everything we hold about this person, keeping only a keyed hash of the
    address on the suppression list so that nobody can re-add it without them.

    Found by the normalised address (the key), whatever its case elsewhere: their
    subscriber row (with memberships and consent events), mail queued for them, the
    servers' answers to our deliveries (which quote the address; the deliveries stay,
    nameless, so a send's figures stay right) and their messages in the local outbox."""
    key = subscriber.email_key
    erase_address_traces(key, reason)
    db.session.execute(
        sa.update(Delivery)
        .where(Delivery.subscriber_id == subscriber.id)
        .values(last_response=ERASED_ANSWER)
        .execution_options(synchronize_session=False)
    )
    _erase_report_requests(subscriber.email_key)
    # A plain DELETE (the database cascades to memberships and events): erasing twice at
    # once, or a row gone already, is not an error.
    db.session.execute(sa.delete(Subscriber).where(Subscriber.id == subscriber.id))
    db.session.expunge(subscriber)


def erase_address_traces(key: str, reason: str = "erased") -> None:
    """What we hold about an address outside its subscriber row: it goes on the
    suppression list (as a keyed hash), and mail queued for it, its messages in the local
    outbox and the replies it sent us are deleted (found by the normalised key, in any
    case). For a person who was never a subscriber too (a report requester)."""
    insert_or_ignore(
        Suppression,
        {"address_hash": suppression_hash(key), "reason": reason, "created_at": utcnow()},
    )
    db.session.execute(
        sa.delete(OutgoingMail)
        .where(sa.func.lower(OutgoingMail.recipient) == key)
        .execution_options(synchronize_session=False)
    )
    if uses_outbox():
        outbox.discard_mentioning(current_app.config["OUTBOX_DIR"], key)
    db.session.execute(sa.delete(InboundMessage).where(InboundMessage.sender_key == key))


def _erase_report_requests(address_key: str) -> None:
    """The person's report requests lose their personal data too (reports build on
    subscriptions, so the import is here, not at the top)."""
    from newsletter.reports.erasure import erase_requests
    from newsletter.reports.models import ActorKind
    from newsletter.reports.record import Actor

    erase_requests(address_key, Actor(ActorKind.SYSTEM, label="erasure of the subscriber"))


def is_suppressed(address_key: str) -> bool:
    address_hash = suppression_hash(address_key)
    query = sa.select(Suppression.id).where(Suppression.address_hash == address_hash)
    return db.session.scalar(query) is not None


# -- helpers ---------------------------------------------------------------------------


def _take_confirmation_slot(subscriber: Subscriber, now: datetime) -> bool:
    """Whether a confirmation (or note) may go out now, at most one per
    ``CONFIRM_RESEND_MINUTES``; a compare-and-set, so that concurrent requests for one
    address (a double click) send one email."""
    wait = timedelta(minutes=current_app.config["CONFIRM_RESEND_MINUTES"])
    free = sa.or_(
        Subscriber.confirmation_sent_at.is_(None), Subscriber.confirmation_sent_at <= now - wait
    )
    return compare_and_set(subscriber, free, confirmation_sent_at=now)


def _transition(
    subscriber: Subscriber, allowed: set[SubscriberStatus], status: SubscriberStatus, now: datetime
) -> bool:
    """Move to ``status`` if the subscriber is (still) in one of ``allowed``: a
    compare-and-set in the database, so of two concurrent requests only one acts."""
    return compare_and_set(
        subscriber, Subscriber.status.in_(allowed), status=status, status_changed_at=now
    )


def set_status(subscriber: Subscriber, status: SubscriberStatus, now: datetime) -> None:
    """Set a status on a subscriber this transaction has just created or locked."""
    if subscriber.status != status:
        subscriber.status = status
        subscriber.status_changed_at = now


def activate(subscriber: Subscriber, now: datetime) -> None:
    set_status(subscriber, SubscriberStatus.ACTIVE, now)
    _after_activation(subscriber)


def _after_activation(subscriber: Subscriber) -> None:
    """A fresh start: no bounces counted, and off the suppression list (the person has
    confirmed the address themselves)."""
    subscriber.bounce_score = 0.0
    db.session.execute(
        sa.delete(Suppression).where(
            Suppression.address_hash == suppression_hash(subscriber.email_key)
        )
    )


def replace_memberships(subscriber: Subscriber, lists: Sequence[MailingList]) -> None:
    wanted = {mailing_list.id: mailing_list for mailing_list in lists}
    for membership in list(subscriber.memberships):
        if membership.list_id not in wanted:
            subscriber.memberships.remove(membership)
    present = {membership.list_id for membership in subscriber.memberships}
    for list_id, mailing_list in wanted.items():
        if list_id not in present:
            subscriber.memberships.append(Membership(mailing_list=mailing_list))
    db.session.flush()


def record(
    subscriber: Subscriber,
    action: ConsentAction,
    now: datetime,
    origin: Origin,
    consent_version: str | None,
    lists: Sequence[MailingList],
    note: str = "",
) -> None:
    db.session.add(
        ConsentEvent(
            subscriber_id=subscriber.id,
            action=action,
            at=now,
            ip=origin.ip,
            user_agent=origin.user_agent,
            consent_version=consent_version,
            lists=",".join(sorted(mailing_list.slug for mailing_list in lists)),
            note=note,
        )
    )
