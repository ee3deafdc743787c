"""The mailing layer: the only code that renders emails, talks SMTP or writes the outbox.

Services call ``send_email``; the message is queued in their transaction and leaves
once the caller commits.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from email.message import EmailMessage
from email.policy import SMTP

from flask import Flask, current_app

from newsletter import i18n
from newsletter.bounces import verp
from newsletter.mailing import dkim, headers, queue, render, transport
from newsletter.mailing.mime import MessageTemplate
from newsletter.mailing.render import render_email
from newsletter.settings import services as site_settings


def init_app(app: Flask) -> None:
    transport.init_app(app)
    dkim.init_app(app)
    queue.listen()
    render.init_app(app)


def send_email(
    template: str,
    *,
    subject: str,
    to_address: str,
    to_name: str | None = None,
    context: Mapping[str, Hashable] | None = None,
    slots: Mapping[str, str] | None = None,
    extra_headers: Mapping[str, str] | None = None,
    subscriber_id: int | None = None,
) -> int:
    """Queue ``email/<template>.{html,txt}`` for ``to_address``; return the queued id.

    ``context`` holds values shared by many messages, ``slots`` the values of this one
    (links with tokens, a greeting): the pair is rendered and its CSS inlined once per
    context, and each message only fills its slots. The message is DKIM-signed when
    that is configured, and its return path names ``subscriber_id`` (signed VERP) when
    a bounce domain is set, so that a bounce of it is matched.
    """
    slots = dict(slots or {})
    message = compiled_email(template, subject, context or {}, tuple(sorted(slots)))
    copy_headers = headers.recipient_headers(to_address, to_name)
    copy_headers.update(extra_headers or {})
    envelope_from = verp.envelope_sender(subscriber_id, headers.sender()[1])
    data = dkim.sign(message.fill(copy_headers, slots))
    return queue.enqueue(to_address, data, envelope_from)


def send_emails(
    template: str,
    *,
    subject: str,
    copies: Iterable[tuple[str, Mapping[str, str], int | None]],
    slot_names: tuple[str, ...],
    context: Mapping[str, Hashable] | None = None,
) -> list[int]:
    """``send_email`` for many people at once: each of ``copies`` is (address, slots,
    subscriber id); the email is rendered once and the copies queued in bulk."""
    message = compiled_email(template, subject, context or {}, tuple(sorted(slot_names)))
    sender = headers.sender()[1]
    return queue.enqueue_many(
        (
            address,
            dkim.sign(message.fill(headers.recipient_headers(address), slots)),
            verp.envelope_sender(subscriber_id, sender),
        )
        for address, slots, subscriber_id in copies
    )


def build_template(
    template: str,
    subject: str,
    context: Mapping[str, object],
    slot_names: tuple[str, ...],
    extra_headers: Mapping[str, str] | None = None,
) -> MessageTemplate:
    """Render ``email/<template>.{html,txt}``, inline its CSS and encode it, ready to be
    filled per recipient: the costly part of an email, done once."""
    rendered = render_email(template, subject, context, slot_names)
    shared = headers.common_headers(subject)
    shared.update(extra_headers or {})
    return MessageTemplate(text=rendered.text, html=rendered.html, headers=shared)


_CACHE_KEY = "newsletter.compiled_emails"
_CACHE_SIZE = 128


def compiled_email(
    template: str, subject: str, context: Mapping[str, Hashable], slot_names: tuple[str, ...]
) -> MessageTemplate:
    """The rendered, inlined and encoded message for this template and context, cached
    per application (not while templates reload in debug)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # The settings are part of every email (names, footer, colours): a change makes new ones.
    site = site_settings.current()
    key = (
        template,
        subject,
        tuple(sorted(context.items())),
        slot_names,
        site,
        i18n.current_language(),
    )
    cache: dict[Hashable, MessageTemplate] = app.extensions.setdefault(_CACHE_KEY, {})
    compiled = None if app.jinja_env.auto_reload else cache.get(key)
    if compiled is None:
        compiled = build_template(
            template, subject, context, slot_names, headers.feedback_id(template, "transactional")
        )
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[key] = compiled
    return compiled


def forward_message(raw: bytes, to_address: str, subject: str, reply_to: str | None) -> int:
    """Queue ``raw`` (a message that came to us) to ``to_address``, attached to a note
    from us: resending it under its author's From would fail their DMARC. Replies go
    to its author."""
    note = EmailMessage(policy=SMTP)
    _, sender_address = headers.sender()
    for name, value in headers.common_headers(f"Fwd: {subject}" if subject else "Fwd").items():
        note[name] = value
    note.replace_header("Auto-Submitted", "auto-forwarded")
    for name, value in headers.recipient_headers(to_address).items():
        note[name] = value
    if reply_to:
        note["Reply-To"] = reply_to
    note.set_content(
        f"This message came to {site_settings.current().site_name} and is not a bounce, a "
        "complaint or an unsubscribe request; it is attached as it arrived.\n"
    )
    note.add_attachment(raw, maintype="application", subtype="octet-stream", filename="message.eml")
    data = dkim.sign(note.as_bytes())
    return queue.enqueue(to_address, data, verp.envelope_sender(None, sender_address))
