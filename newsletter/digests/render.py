"""A digest as an email: the template context, the compiled message, the preview."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app
from flask_babel import gettext

from newsletter import i18n, links, mailing, markdown
from newsletter.digests import variants
from newsletter.digests.models import Digest
from newsletter.mailing.mime import MessageTemplate
from newsletter.sessions.models import DialogueSession

# The values that differ per recipient; everything else is rendered once per digest.
RECIPIENT_SLOTS = ("unsubscribe_url", "preferences_url")
MAX_HTML_BYTES = 100_000  # Gmail clips messages over about 102 KB, footer links and all


@dataclass
class SessionGroup:
    heading: str
    title: str
    url: str | None
    points: list[str] = field(default_factory=list)


def session_heading(session: DialogueSession) -> str:
    """ "Series · Session 2 · 8 June 2020" in the language being rendered."""
    parts = [session.series.name] if session.series else []
    if session.number:
        parts.append(gettext("Session %(number)s", number=i18n.digits(str(session.number))))
    if session.held_on:
        parts.append(i18n.day(session.held_on))
    return " · ".join(parts)


def session_title(session: DialogueSession, language: str) -> str:
    translated = (session.translations or {}).get(language, {})
    return str(translated.get("title") or session.title)


def session_groups(digest: Digest, language: str | None = None) -> list[SessionGroup]:
    """The items under their sessions' headings, in the digest's order; a session whose
    items are not next to each other gets its heading again. In ``language`` (the
    variant's words, the sessions' translated titles), the default one when None."""
    language = language or i18n.default_language()
    words = variants.texts(digest, language).items
    groups: list[SessionGroup] = []
    last_session_id = None
    for item, text in zip(digest.items, words, strict=True):
        session = item.point.session
        if session.id != last_session_id:
            url = (
                links.external_url("public.session", slug=session.slug)
                if session.is_published
                else None
            )
            groups.append(
                SessionGroup(session_heading(session), session_title(session, language), url)
            )
            last_session_id = session.id
        groups[-1].points.append(text)
    return groups


def digest_context(digest: Digest, language: str | None = None) -> dict[str, object]:
    """What the digest template shows, in ``language`` (default: the site's first); to
    be rendered under ``i18n.force_language`` of the same language."""
    words = variants.texts(digest, language or i18n.default_language())
    return {
        "subject": words.subject,
        "preheader": words.preheader,
        "intro_html": markdown.to_html(words.intro),
        "intro_text": markdown.to_text(words.intro),
        "outro_html": markdown.to_html(words.outro),
        "outro_text": markdown.to_text(words.outro),
        "groups": session_groups(digest, language),
        "list_names": ", ".join(mailing_list.name for mailing_list in digest.lists),
        "web_url": archive_url(digest, language) if digest.slug and digest.in_archive else None,
    }


def list_id(digest: Digest) -> str:
    """The ``List-Id`` of a copy that goes to no list member (a test, a preview, or a
    reader who left every target list since the freeze): its first target list's own."""
    if not digest.lists:
        return mailing.headers.list_id()
    first = min(digest.lists, key=lambda mailing_list: mailing_list.id)
    return mailing.headers.list_id(first.name, first.slug)


def list_ids(digest: Digest) -> dict[int | None, str]:
    """Each target list's ``List-Id``, by list id: a copy names the one list its
    recipient gets the digest through."""
    return {
        mailing_list.id: mailing.headers.list_id(mailing_list.name, mailing_list.slug)
        for mailing_list in digest.lists
    }


def build_message(
    digest: Digest, subject_prefix: str = "", language: str | None = None
) -> MessageTemplate:
    """The digest (its variant in ``language``; default: the site's first language)
    rendered, inlined and encoded once; fill it per recipient with ``RECIPIENT_SLOTS``.
    Its shared headers say it is a newsletter issue, where it is archived and, with
    every page of it, which language it is in."""
    with i18n.force_language(language or i18n.default_language()) as chosen:
        archived_at = archive_url(digest, chosen) if digest.slug else None
        shared = mailing.headers.bulk_headers(
            links.external_url("public.archive_index"), archived_at
        ) | mailing.headers.feedback_id(digest.public_id.hex[:16], "digest")
        context = digest_context(digest, chosen)
        return mailing.build_template(
            "digest",
            subject_prefix + str(context["subject"]),
            context,
            RECIPIENT_SLOTS,
            shared,
        )


def archive_url(digest: Digest, language: str | None = None) -> str:
    """The archive page of the digest in ``language`` (the default one has no suffix)."""
    if not language or language == i18n.default_language():
        return links.external_url("public.archive_digest", slug=digest.slug)
    return links.external_url("public.archive_digest_in", slug=digest.slug, lang=language)


def sample_slots() -> dict[str, str]:
    """Links for copies that go to no subscriber (previews, tests): they lead to the
    public pages instead of acting on anyone's subscription."""
    return {
        "unsubscribe_url": links.external_url("public.subscribe"),
        "preferences_url": links.external_url("public.subscribe"),
    }


@dataclass(frozen=True)
class Preview:
    html: str
    text: str
    size: int  # bytes of the encoded message


def preview(digest: Digest, to_address: str | None = None, language: str | None = None) -> Preview:
    """The email exactly as the sending code builds it, decoded for the browser."""
    address = to_address or f"preview@{current_app.config['SENDER_DOMAIN']}"
    data = build_message(digest, language=language).fill(
        mailing.headers.recipient_headers(address), sample_slots()
    )
    message = email.message_from_bytes(data, _class=EmailMessage, policy=email.policy.default)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    return Preview(
        html=html.get_content() if html is not None else "",
        text=text.get_content() if text is not None else "",
        size=len(data),
    )


def send_test(digest: Digest, to_address: str, to_name: str = "", language: str = "") -> int:
    """Queue a test copy to a staff member (in ``language``'s variant when it is
    complete), built by the sending code itself."""
    from newsletter.delivery import copies  # the sending code builds on this module

    return copies.send_test(digest, to_address, to_name, language)
