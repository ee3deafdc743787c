"""Mailing lists: create, change, archive or delete them, and resolve what a form or a
command names. An archived list is offered on no form, joined by nobody and sent to by
no digest; its memberships and its digests stay as they were."""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from newsletter.digests.models import Digest, DigestStatus, digest_lists
from newsletter.extensions import db
from newsletter.subscriptions.models import MailingList
from newsletter.timeutil import utcnow
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
        raise InvalidInput(_l("A list needs a name."))
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


def update_list(
    mailing_list: MailingList, *, name: str, description: str, public: bool, default: bool
) -> None:
    """Rename, describe, make public or private, make the default (or not)."""
    name = clean_text(name, "name", 120, label="list name")
    if not name:
        raise InvalidInput(_l("A list needs a name."), "name")
    if mailing_list.archived_at is not None and (default or public):
        raise InvalidInput(_l("An archived list is offered nowhere: restore it first."))
    if default and not mailing_list.is_default:
        db.session.execute(sa.update(MailingList).values(is_default=False))
    mailing_list.name = name
    mailing_list.description = clean_block(description, "description", 5000)
    mailing_list.is_public = public
    mailing_list.is_default = default
    db.session.flush()


def archive_list(mailing_list: MailingList) -> None:
    """Offer the list nowhere and send to it no more; memberships and digests stay."""
    if mailing_list.archived_at is not None:
        return
    if mailing_list.is_default:
        raise InvalidInput(_l("Choose another default list before archiving this one."))
    mailing_list.archived_at = utcnow()
    db.session.flush()


def restore_list(mailing_list: MailingList) -> None:
    mailing_list.archived_at = None
    db.session.flush()


def digests_sent_to(mailing_list: MailingList) -> int:
    """Digests that went (or are going) out to this list: its history."""
    query = (
        sa.select(sa.func.count())
        .select_from(digest_lists)
        .join(Digest, Digest.id == digest_lists.c.digest_id)
        .where(
            digest_lists.c.list_id == mailing_list.id,
            Digest.status.in_([DigestStatus.SENDING, DigestStatus.PAUSED, DigestStatus.SENT]),
        )
    )
    return int(db.session.scalar(query) or 0)


def delete_list(mailing_list: MailingList) -> None:
    """Delete a list nothing was sent to (its memberships go; drafts stop naming it).
    A list with digests sent to it is history: it can only be archived."""
    if digests_sent_to(mailing_list):
        raise InvalidInput(
            f"Digests were sent to {mailing_list.name}: archive it instead, to keep its history."
        )
    if mailing_list.is_default:
        raise InvalidInput(_l("Choose another default list before deleting this one."))
    db.session.execute(digest_lists.delete().where(digest_lists.c.list_id == mailing_list.id))
    db.session.delete(mailing_list)
    db.session.flush()


def all_lists() -> list[MailingList]:
    """Every list, archived ones too (the staff pages show their history)."""
    return list(db.session.scalars(sa.select(MailingList).order_by(MailingList.name)))


def active_lists() -> list[MailingList]:
    """The lists that can be joined and sent to (not archived)."""
    query = sa.select(MailingList).where(MailingList.archived_at.is_(None))
    return list(db.session.scalars(query.order_by(MailingList.name)))


def public_lists() -> list[MailingList]:
    query = sa.select(MailingList).where(MailingList.is_public, MailingList.archived_at.is_(None))
    return list(db.session.scalars(query.order_by(MailingList.name)))


def default_lists() -> list[MailingList]:
    query = sa.select(MailingList).where(MailingList.is_default, MailingList.archived_at.is_(None))
    return list(db.session.scalars(query))


def list_by_slug(slug: str) -> MailingList:
    found = db.session.scalar(sa.select(MailingList).where(MailingList.slug == slug))
    if found is None:
        raise InvalidInput(f"There is no list {slug!r}.")
    if found.archived_at is not None:
        raise InvalidInput(f"The list {slug!r} is archived.")
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
    archived = sorted(lst.slug for lst in found if lst.archived_at is not None)
    if archived:
        raise InvalidInput(f"The list {archived[0]!r} is archived.")
    return found
