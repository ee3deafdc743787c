"""The public archive: digests as they were sent, newest first, and their feed.

Only digests published on purpose are public (``Digest.in_archive``): by default those
sent to public lists only, since a private list's readers were not promised that the
world could read what they get. A cancelled digest is never public."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import render_template
from flask_sqlalchemy.pagination import Pagination

from newsletter import i18n
from newsletter.digests import render, variants
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.slugs import slugify, unique_slug
from newsletter.timeutil import utcnow

PER_PAGE = 20
MAX_PAGE = 100_000  # two million digests; beyond, the offset overflows the database


def freeze(digest: Digest, now: datetime | None = None) -> None:
    """Keep the archive's copy of a digest as it goes out, whatever happens to its
    sessions and points later: its content as the site shows it (no personal links,
    no "view in your browser"), and the text part of the email."""
    now = now or utcnow()
    if digest.slug is None:
        base = slugify(f"{now:%Y-%m-%d} {digest.subject}")
        digest.slug = unique_slug(Digest, base, digest.id)
    frozen: dict[str, dict[str, str]] = {}
    for language in variants.sendable_languages(digest):
        with i18n.force_language(language):
            context = render.digest_context(digest, language)
            html = render_template("public/_digest_body.html", **context)
            text = render.preview(digest, language=language).text.replace("\r\n", "\n")
        if language == i18n.default_language():
            digest.archived_html, digest.archived_text = html, text
        else:
            frozen[language] = {"html": html, "text": text, "subject": str(context["subject"])}
    # Each complete variant as it went out, for the archive's page in that language.
    digest.archived_variants = frozen or None


# Sending, paused or sent: the web version behind a published digest's link is there.
_REACHABLE = (DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.SENT)


def publishes_by_default(digest: Digest) -> bool:
    """The send page's default: publish when every target list is public."""
    return bool(digest.lists) and all(mailing_list.is_public for mailing_list in digest.lists)


def _listed() -> sa.Select[Digest]:
    """The digests the archive lists, newest first."""
    return (
        sa.select(Digest)
        .where(
            Digest.status == DigestStatus.SENT,
            Digest.in_archive,
            Digest.archived_html.is_not(None),
        )
        .order_by(Digest.sent_at.desc(), Digest.id.desc())
    )


def page(number: int) -> Pagination:
    return db.paginate(_listed(), page=number, per_page=PER_PAGE, error_out=False)


def neighbours(digest: Digest) -> tuple[Digest | None, Digest | None]:
    """(the one sent before, the one sent after) among the listed digests."""
    if digest.sent_at is None:
        return None, None
    listed = _listed().subquery()
    older_first = (listed.c.sent_at, listed.c.id)
    mine = (digest.sent_at, digest.id)
    older = db.session.scalar(
        sa.select(Digest)
        .join(listed, listed.c.id == Digest.id)
        .where(sa.tuple_(*older_first) < sa.tuple_(*mine))
        .order_by(listed.c.sent_at.desc(), listed.c.id.desc())
        .limit(1)
    )
    newer = db.session.scalar(
        sa.select(Digest)
        .join(listed, listed.c.id == Digest.id)
        .where(sa.tuple_(*older_first) > sa.tuple_(*mine))
        .order_by(listed.c.sent_at, listed.c.id)
        .limit(1)
    )
    return older, newer


def latest(limit: int = 20) -> list[Digest]:
    return list(page(1).items)[:limit]


def versions(digest: Digest) -> list[tuple[str, str]]:
    """(language, subject) of each version the archive holds, the default one first."""
    held = [(i18n.default_language(), digest.subject)]
    for language in i18n.languages()[1:]:
        frozen = (digest.archived_variants or {}).get(language)
        if frozen:
            held.append((language, frozen.get("subject") or digest.subject))
    return held


def by_slug(slug: str) -> Digest | None:
    """The web version behind a published digest's "view in your browser" link: there
    as soon as the first copy leaves (the archive's list shows only finished sends),
    gone if the send is cancelled."""
    return db.session.scalar(
        sa.select(Digest).where(
            Digest.slug == slug,
            Digest.in_archive,
            Digest.status.in_(_REACHABLE),
            Digest.archived_html.is_not(None),
        )
    )
