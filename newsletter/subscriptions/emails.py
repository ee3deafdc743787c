"""The emails of the subscription life. Per-person values are slots, so each email is
rendered once (per language) and filled for every person (see ``mailing.send_email``).
Each is in the subscriber's language (``Subscriber.language``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from flask import current_app
from flask_babel import gettext

from newsletter import i18n, links, mailing
from newsletter.settings import services as site_settings
from newsletter.subscriptions.models import MailingList, Subscriber
from newsletter.tokens import Purpose, make_token


def greeting(name: str) -> str:
    """In the language being rendered."""
    return gettext("Dear %(name)s,", name=name) if name else gettext("Hello,")


def _list_names(lists: Sequence[MailingList]) -> str:
    return ", ".join(mailing_list.name for mailing_list in lists)


def preferences_url(subscriber: Subscriber) -> str:
    token = make_token(Purpose.PREFERENCES, subscriber.public_id.hex)
    return links.external_url("public.preferences", token=token)


def unsubscribe_token(subscriber: Subscriber) -> str:
    return make_token(Purpose.UNSUBSCRIBE, subscriber.public_id.hex)


def send_confirmation(
    subscriber: Subscriber, lists: Sequence[MailingList], language: str | None = None
) -> None:
    """The double opt-in link. The address is not confirmed yet, so nothing anyone typed
    on the form (name, organisation) goes into it: whoever fills in the form cannot make
    us mail their words to someone else. It greets neutrally and is addressed to the
    bare address."""
    send_confirmations(
        [(subscriber.id, subscriber.public_id, subscriber.email, language or subscriber.language)],
        lists,
    )


def send_confirmations(
    people: Iterable[tuple[int, uuid.UUID, str, str]], lists: Sequence[MailingList]
) -> int:
    """``send_confirmation`` for each of ``people`` (id, public id, address, language):
    the email is rendered once per language and the copies queued together. Returns
    how many."""
    by_language: dict[str, list[tuple[int, uuid.UUID, str]]] = {}
    for subscriber_id, public_id, email, language in people:
        by_language.setdefault(i18n.or_default(language), []).append(
            (subscriber_id, public_id, email)
        )
    for language, group in by_language.items():
        with i18n.force_language(language):
            _send_confirmations(group, lists)
    return sum(len(group) for group in by_language.values())


def _send_confirmations(
    people: list[tuple[int, uuid.UUID, str]], lists: Sequence[MailingList]
) -> None:
    names = _list_names(lists)
    lists_phrase = f" ({names})" if names else ""
    copies = [
        (
            email,
            {
                "lists_phrase": lists_phrase,
                "confirm_url": links.external_url(
                    "public.confirm", token=make_token(Purpose.CONFIRM, public_id.hex)
                ),
            },
            subscriber_id,
        )
        for subscriber_id, public_id, email in people
    ]
    if copies:
        mailing.send_emails(
            "confirm",
            subject=gettext(
                "Please confirm your subscription to %(site)s",
                site=site_settings.current().site_name,
            ),
            context={
                "expires_hours": current_app.config["CONFIRM_TOKEN_MAX_AGE_HOURS"],
                "greeting": greeting(""),
            },
            copies=copies,
            slot_names=("lists_phrase", "confirm_url"),
        )


def send_already_subscribed(subscriber: Subscriber) -> None:
    with i18n.force_language(subscriber.language):
        _send_already_subscribed(subscriber)


def _send_already_subscribed(subscriber: Subscriber) -> None:
    mailing.send_email(
        "already_subscribed",
        subject=gettext(
            "You are already subscribed to %(site)s", site=site_settings.current().site_name
        ),
        to_address=subscriber.email,
        to_name=subscriber.name,
        slots={
            "greeting": greeting(subscriber.name),
            "preferences_url": preferences_url(subscriber),
        },
        subscriber_id=subscriber.id,
    )


def send_welcome(subscriber: Subscriber, lists: Sequence[MailingList]) -> None:
    with i18n.force_language(subscriber.language):
        _send_welcome(subscriber, lists)


def _send_welcome(subscriber: Subscriber, lists: Sequence[MailingList]) -> None:
    token = unsubscribe_token(subscriber)
    unsubscribe_url = links.external_url("public.unsubscribe", token=token)
    names = _list_names(lists)
    mailing.send_email(
        "welcome",
        subject=gettext("Welcome to %(site)s", site=site_settings.current().site_name),
        to_address=subscriber.email,
        to_name=subscriber.name,
        context={"archive_url": links.external_url("public.archive_index")},
        slots={
            "greeting": greeting(subscriber.name),
            "lists_phrase": gettext(": you will receive %(lists)s", lists=names) if names else "",
            "unsubscribe_url": unsubscribe_url,
            "preferences_url": preferences_url(subscriber),
        },
        extra_headers=mailing.headers.list_headers(unsubscribe_url, token),
        subscriber_id=subscriber.id,
    )


def send_unsubscribe_confirmation(subscriber: Subscriber) -> None:
    """Asked to leave by an email without our token (anyone can write one with any
    From): the subscriber gets the link to the one-button unsubscribe page instead."""
    with i18n.force_language(subscriber.language):
        _send_unsubscribe_confirmation(subscriber)


def _send_unsubscribe_confirmation(subscriber: Subscriber) -> None:
    token = unsubscribe_token(subscriber)
    mailing.send_email(
        "unsubscribe_confirm",
        subject=gettext(
            "Do you want to unsubscribe from %(site)s?", site=site_settings.current().site_name
        ),
        to_address=subscriber.email,
        slots={"unsubscribe_url": links.external_url("public.unsubscribe", token=token)},
        subscriber_id=subscriber.id,
    )
