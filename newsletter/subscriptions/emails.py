"""The emails of the subscription life. Per-person values are slots, so each email is
rendered once and filled for every person (see ``mailing.send_email``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from flask import current_app

from newsletter import links, mailing
from newsletter.subscriptions.models import MailingList, Subscriber
from newsletter.tokens import Purpose, make_token


def greeting(name: str) -> str:
    return f"Dear {name}," if name else "Hello,"


def _list_names(lists: Sequence[MailingList]) -> str:
    return ", ".join(mailing_list.name for mailing_list in lists)


def preferences_url(subscriber: Subscriber) -> str:
    token = make_token(Purpose.PREFERENCES, subscriber.public_id.hex)
    return links.external_url("public.preferences", token=token)


def unsubscribe_token(subscriber: Subscriber) -> str:
    return make_token(Purpose.UNSUBSCRIBE, subscriber.public_id.hex)


def send_confirmation(subscriber: Subscriber, lists: Sequence[MailingList]) -> None:
    send_confirmations([(subscriber.public_id, subscriber.email, subscriber.name)], lists)


def send_confirmations(
    people: Iterable[tuple[uuid.UUID, str, str]], lists: Sequence[MailingList]
) -> int:
    """Ask each of ``people`` (public id, address, name) to confirm joining ``lists``;
    the email is rendered once and the copies queued together. Returns how many."""
    names = _list_names(lists)
    lists_phrase = f" ({names})" if names else ""
    copies = [
        (
            email,
            name,
            {
                "greeting": greeting(name),
                "lists_phrase": lists_phrase,
                "confirm_url": links.external_url(
                    "public.confirm", token=make_token(Purpose.CONFIRM, public_id.hex)
                ),
            },
        )
        for public_id, email, name in people
    ]
    if copies:
        mailing.send_emails(
            "confirm",
            subject=f"Please confirm your subscription to {current_app.config['SITE_NAME']}",
            context={"expires_hours": current_app.config["CONFIRM_TOKEN_MAX_AGE_HOURS"]},
            copies=copies,
            slot_names=("greeting", "lists_phrase", "confirm_url"),
        )
    return len(copies)


def send_already_subscribed(subscriber: Subscriber) -> None:
    mailing.send_email(
        "already_subscribed",
        subject=f"You are already subscribed to {current_app.config['SITE_NAME']}",
        to_address=subscriber.email,
        to_name=subscriber.name,
        slots={
            "greeting": greeting(subscriber.name),
            "preferences_url": preferences_url(subscriber),
        },
    )


def send_welcome(subscriber: Subscriber, lists: Sequence[MailingList]) -> None:
    token = unsubscribe_token(subscriber)
    unsubscribe_url = links.external_url("public.unsubscribe", token=token)
    names = _list_names(lists)
    mailing.send_email(
        "welcome",
        subject=f"Welcome to {current_app.config['SITE_NAME']}",
        to_address=subscriber.email,
        to_name=subscriber.name,
        context={"archive_url": links.external_url("public.archive_index")},
        slots={
            "greeting": greeting(subscriber.name),
            "lists_phrase": f": you will receive {names}" if names else "",
            "unsubscribe_url": unsubscribe_url,
            "preferences_url": preferences_url(subscriber),
        },
        extra_headers=mailing.headers.list_headers(unsubscribe_url, token),
    )
