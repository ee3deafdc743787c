"""A digest as an email: the template context, the compiled message, the preview."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from flask import current_app

from newsletter import links, mailing, markdown
from newsletter.digests.models import Digest
from newsletter.mailing.mime import MessageTemplate

# The values that differ per recipient; everything else is rendered once per digest.
RECIPIENT_SLOTS = ("unsubscribe_url", "preferences_url")
MAX_HTML_BYTES = 100_000  # Gmail clips messages over about 102 KB, footer links and all


@dataclass
class SessionGroup:
    heading: str
    title: str
    url: str | None
    points: list[str] = field(default_factory=list)


def session_groups(digest: Digest) -> list[SessionGroup]:
    """The items under their sessions' headings, in the digest's order; a session whose
    items are not next to each other gets its heading again."""
    groups: list[SessionGroup] = []
    last_session_id = None
    for item in digest.items:
        session = item.point.session
        if session.id != last_session_id:
            url = (
                links.external_url("public.session", slug=session.slug)
                if session.is_published
                else None
            )
            groups.append(SessionGroup(session.heading, session.title, url))
            last_session_id = session.id
        groups[-1].points.append(item.text)
    return groups


def digest_context(digest: Digest) -> dict[str, object]:
    return {
        "subject": digest.subject,
        "preheader": digest.preheader,
        "intro_html": markdown.to_html(digest.intro),
        "intro_text": markdown.to_text(digest.intro),
        "outro_html": markdown.to_html(digest.outro),
        "outro_text": markdown.to_text(digest.outro),
        "groups": session_groups(digest),
        "list_names": ", ".join(mailing_list.name for mailing_list in digest.lists),
        "web_url": links.external_url("public.archive_digest", slug=digest.slug)
        if digest.slug and digest.in_archive
        else None,
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


def build_message(digest: Digest, subject_prefix: str = "") -> MessageTemplate:
    """The digest rendered, inlined and encoded once; fill it per recipient with
    ``RECIPIENT_SLOTS``. Its shared headers say it is a newsletter issue and where it is
    archived."""
    archived_at = (
        links.external_url("public.archive_digest", slug=digest.slug) if digest.slug else None
    )
    shared = mailing.headers.bulk_headers(
        links.external_url("public.archive_index"), archived_at
    ) | mailing.headers.feedback_id(digest.public_id.hex[:16], "digest")
    return mailing.build_template(
        "digest",
        subject_prefix + digest.subject,
        digest_context(digest),
        RECIPIENT_SLOTS,
        shared,
    )


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


def preview(digest: Digest, to_address: str | None = None) -> Preview:
    """The email exactly as the sending code builds it, decoded for the browser."""
    address = to_address or f"preview@{current_app.config['SENDER_DOMAIN']}"
    data = build_message(digest).fill(mailing.headers.recipient_headers(address), sample_slots())
    message = email.message_from_bytes(data, _class=EmailMessage, policy=email.policy.default)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    return Preview(
        html=html.get_content() if html is not None else "",
        text=text.get_content() if text is not None else "",
        size=len(data),
    )


def send_test(digest: Digest, to_address: str, to_name: str = "") -> int:
    """Queue a test copy to a staff member, built by the sending code itself."""
    from newsletter.delivery import copies  # the sending code builds on this module

    return copies.send_test(digest, to_address, to_name)
