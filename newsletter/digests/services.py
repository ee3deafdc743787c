"""Composing digests: subject and texts, target lists, and the ordered quoted points."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from newsletter import ordering
from newsletter.auth.models import StaffUser
from newsletter.digests.models import Digest, DigestItem, DigestStatus
from newsletter.extensions import db
from newsletter.mailing.mime import HeaderValueError, check_header_value
from newsletter.sessions.models import DialogueSession, SummaryPoint
from newsletter.subscriptions.lists import default_lists, resolve_lists
from newsletter.validation import (
    InvalidInput,
    check_characters,
    clean_block,
    clean_text,
    shorten,
)

MAX_SUBJECT = 200
MAX_TEXT = 20_000


def require_editable(digest: Digest) -> None:
    if not digest.is_editable:
        raise InvalidInput(
            f"This digest is {digest.status.value}; its content can no longer change."
        )


def check_subject(subject: str) -> str:
    """A subject fit for a header: one line, no control characters (refused, not
    silently changed), at most MAX_SUBJECT characters."""
    try:
        check_header_value(subject or "", "subject")
    except HeaderValueError as exc:
        raise InvalidInput(
            "The subject must be one line without control characters.", "subject"
        ) from exc
    check_characters(subject or "", "subject")
    subject = " ".join((subject or "").split())
    if not subject:
        raise InvalidInput(_l("A digest needs a subject."), "subject")
    if len(subject) > MAX_SUBJECT:
        raise InvalidInput(f"A subject has at most {MAX_SUBJECT} characters.", "subject")
    return subject


def create_digest(subject: str, author: StaffUser | None = None) -> Digest:
    digest = Digest(subject=check_subject(subject), created_by_id=author.id if author else None)
    digest.lists = default_lists()
    db.session.add(digest)
    db.session.flush()
    return digest


def create_from_session(session: DialogueSession, author: StaffUser | None = None) -> Digest:
    """A draft quoting every point of ``session``, in order, its subject the session's
    title (shortened to fit: a title may be longer than a subject)."""
    digest = create_digest(shorten(session.title, MAX_SUBJECT), author)
    add_points(digest, [point.id for point in session.points])
    return digest


def update_digest(
    digest: Digest,
    *,
    subject: str,
    preheader: str,
    intro: str,
    outro: str,
    list_slugs: Sequence[str],
) -> None:
    require_editable(digest)
    digest.subject = check_subject(subject)
    # Line breaks in a preheader become spaces: it is one line in the inbox.
    digest.preheader = clean_text(" ".join((preheader or "").split()), "preheader", MAX_SUBJECT)
    digest.intro = clean_block(intro, "intro", MAX_TEXT)
    digest.outro = clean_block(outro, "outro", MAX_TEXT)
    digest.lists = resolve_lists(list_slugs, public_only=False)


def add_points(digest: Digest, point_ids: Sequence[int]) -> int:
    """Append these points (in the order given, each once); return how many were added."""
    require_editable(digest)
    present = {item.point_id for item in digest.items}
    wanted = [point_id for point_id in dict.fromkeys(point_ids) if point_id not in present]
    if not wanted:
        return 0
    found = {
        point.id: point
        for point in db.session.scalars(sa.select(SummaryPoint).where(SummaryPoint.id.in_(wanted)))
    }
    if len(found) != len(wanted):
        raise InvalidInput(_l("One of the chosen points does not exist any more."))
    position = max((item.position for item in digest.items), default=0)
    for point_id in wanted:
        position += 1
        digest.items.append(DigestItem(point=found[point_id], position=position))
    db.session.flush()
    return len(wanted)


def save_items(
    digest: Digest,
    texts: Mapping[int, str],
    *,
    order: Sequence[int],
    removed: Collection[int] = (),
    move: tuple[int, int] | None = None,
    reset: int | None = None,
) -> None:
    """Every item of a digest as the composer left them (see ``ordering.edit_rows``):
    the point's own words when they are the same, or for ``reset``."""
    require_editable(digest)

    def set_text(item: DigestItem, text: str) -> None:
        item.text_override = None if item.id == reset else _item_text(item, text)

    ordering.edit_rows(
        digest.items,
        noun="item",
        texts=texts,
        order=order,
        set_text=set_text,
        removed=removed,
        move=move,
    )
    db.session.flush()


def _item_text(item: DigestItem, text: str) -> str | None:
    """Words for this digest only; the point's own words mean None (follow the point)."""
    check_characters(text, "text", label="item")
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(_l("An item needs some text; tick Remove to drop it."), "text")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"An item has at most {MAX_TEXT} characters.", "text")
    return None if text == item.point.text else text


def delete_digest(digest: Digest) -> None:
    if digest.status != DigestStatus.DRAFT:
        raise InvalidInput(_l("Only a draft can be deleted."))
    db.session.delete(digest)
    db.session.flush()


def all_digests() -> list[Digest]:
    query = sa.select(Digest).options(selectinload(Digest.lists)).order_by(Digest.id.desc())
    return list(db.session.scalars(query))


def digest_by_reference(reference: str) -> Digest | None:
    if not reference.isdigit():
        return None
    return db.session.get(Digest, int(reference))
