"""Mailing lists: create them, and resolve what a form or a command names."""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import MailingList
from newsletter.validation import InvalidInput, clean_block, clean_text

_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def create_list(
    slug: str, name: str, description: str = "", *, public: bool = True, default: bool = False
) -> MailingList:
    """A new list; ``default`` makes it the one people join when they pick none."""
    slug = slug.strip().lower()
    if not _SLUG_RE.match(slug):
        raise InvalidInput(
            "A list slug has 1 to 64 characters: lower-case letters, digits and inner hyphens."
        )
    name = clean_text(name, "list name", 120)
    if not name:
        raise InvalidInput("A list needs a name.")
    if db.session.scalar(sa.select(MailingList.id).where(MailingList.slug == slug)):
        raise InvalidInput(f"A list with the slug {slug!r} exists already.")
    if default:
        db.session.execute(sa.update(MailingList).values(is_default=False))
    mailing_list = MailingList(
        slug=slug,
        name=name,
        description=clean_block(description, "description", 5000),
        is_public=public,
        is_default=default,
    )
    db.session.add(mailing_list)
    db.session.flush()
    return mailing_list


def all_lists() -> list[MailingList]:
    return list(db.session.scalars(sa.select(MailingList).order_by(MailingList.name)))


def public_lists() -> list[MailingList]:
    query = sa.select(MailingList).where(MailingList.is_public).order_by(MailingList.name)
    return list(db.session.scalars(query))


def default_lists() -> list[MailingList]:
    return list(db.session.scalars(sa.select(MailingList).where(MailingList.is_default)))


def list_by_slug(slug: str) -> MailingList:
    found = db.session.scalar(sa.select(MailingList).where(MailingList.slug == slug))
    if found is None:
        raise InvalidInput(f"There is no list {slug!r}.")
    return found


def resolve_lists(slugs: Iterable[str], *, public_only: bool) -> list[MailingList]:
    """The lists with these slugs; refuse unknown (or, for readers, private) ones."""
    wanted = {slug.strip().lower() for slug in slugs}
    if not wanted:
        return []
    query = sa.select(MailingList).where(MailingList.slug.in_(wanted))
    if public_only:
        query = query.where(MailingList.is_public)
    found = list(db.session.scalars(query))
    missing = wanted - {mailing_list.slug for mailing_list in found}
    if missing:
        raise InvalidInput(f"There is no list {sorted(missing)[0]!r}.")
    return found
