"""The mailing layer: the only code that renders emails, talks SMTP or writes the outbox.

Services call ``send_email``; the message is queued in their transaction and leaves
once the caller commits.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

from flask import Flask, current_app

from newsletter.mailing import headers, queue, render, transport
from newsletter.mailing.mime import MessageTemplate
from newsletter.mailing.render import render_email


def init_app(app: Flask) -> None:
    transport.init_app(app)
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
) -> int:
    """Queue ``email/<template>.{html,txt}`` for ``to_address``; return the queued id.

    ``context`` holds values shared by many messages, ``slots`` the values of this one
    (links with tokens, a greeting): the pair is rendered and its CSS inlined once per
    context, and each message only fills its slots.
    """
    slots = dict(slots or {})
    message = compiled_email(template, subject, context or {}, tuple(sorted(slots)))
    copy_headers = headers.recipient_headers(to_address, to_name)
    copy_headers.update(extra_headers or {})
    _, envelope_from = headers.sender()
    return queue.enqueue(to_address, message.fill(copy_headers, slots), envelope_from)


def send_emails(
    template: str,
    *,
    subject: str,
    copies: Iterable[tuple[str, str | None, Mapping[str, str]]],
    slot_names: tuple[str, ...],
    context: Mapping[str, Hashable] | None = None,
) -> list[int]:
    """``send_email`` for many people at once: each of ``copies`` is (address, name,
    slots); the email is rendered once and the copies are queued in bulk."""
    message = compiled_email(template, subject, context or {}, tuple(sorted(slot_names)))
    _, envelope_from = headers.sender()
    return queue.enqueue_many(
        (
            (address, message.fill(headers.recipient_headers(address, name), slots))
            for address, name, slots in copies
        ),
        envelope_from,
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
    key = (template, subject, tuple(sorted(context.items())), slot_names)
    cache: dict[Hashable, MessageTemplate] = app.extensions.setdefault(_CACHE_KEY, {})
    compiled = None if app.jinja_env.auto_reload else cache.get(key)
    if compiled is None:
        compiled = build_template(template, subject, context, slot_names)
        if len(cache) >= _CACHE_SIZE:
            cache.clear()
        cache[key] = compiled
    return compiled
