"""The public archive: digests as they were sent, newest first, and their feed.

Only digests published on purpose are public (``Digest.in_archive``): by default those
sent to public lists only, since a private list's readers were not promised that the
world could read what they get. A cancelled digest is never public."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from newsletter.digests import render
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.slugs import slugify, unique_slug
from newsletter.timeutil import utcnow

PER_PAGE = 20
MAX_PAGE = 100_000  # two million digests; beyond, the offset overflows the database


def freeze(digest: Digest, now: datetime | None = None) -> None:
    """Keep the web version of a digest as it goes out: the archive shows this copy
    whatever happens to its sessions and points later. Links that would act on a
    subscription lead to the public pages instead."""
    now = now or utcnow()
    if digest.slug is None:
        base = slugify(f"{now:%Y-%m-%d} {digest.subject}")
        digest.slug = unique_slug(Digest, base, digest.id)
    web = render.preview(digest)
    digest.archived_html = web.html
    digest.archived_text = web.text


# Sending, paused or sent: the web version behind a published digest's link is there.
_REACHABLE = (DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.SENT)


def publishes_by_default(digest: Digest) -> bool:
    """The send page's default: publish when every target list is public."""
    return bool(digest.lists) and all(mailing_list.is_public for mailing_list in digest.lists)


def page(number: int) -> Pagination:
    query = (
        sa.select(Digest)
        .where(
            Digest.status == DigestStatus.SENT,
            Digest.in_archive,
            Digest.archived_html.is_not(None),
        )
        .order_by(Digest.sent_at.desc(), Digest.id.desc())
    )
    return db.paginate(query, page=number, per_page=PER_PAGE, error_out=False)


def latest(limit: int = 20) -> list[Digest]:
    return list(page(1).items)[:limit]


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
