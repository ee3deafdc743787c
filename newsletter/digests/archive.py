"""The public archive: digests as they were sent, newest first, and their feed."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy.pagination import Pagination

from newsletter.digests import render
from newsletter.digests.models import EDITABLE, Digest, DigestStatus
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


def page(number: int) -> Pagination:
    query = (
        sa.select(Digest)
        .where(Digest.status == DigestStatus.SENT, Digest.archived_html.is_not(None))
        .order_by(Digest.sent_at.desc(), Digest.id.desc())
    )
    return db.paginate(query, page=number, per_page=PER_PAGE, error_out=False)


def latest(limit: int = 20) -> list[Digest]:
    return list(page(1).items)[:limit]


def by_slug(slug: str) -> Digest | None:
    """The web version behind a digest's "view in your browser" link: there as soon as
    the first copy leaves (the archive's list shows only finished sends)."""
    return db.session.scalar(
        sa.select(Digest).where(
            Digest.slug == slug, Digest.status.not_in(EDITABLE), Digest.archived_html.is_not(None)
        )
    )
