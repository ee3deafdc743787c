"""Series, sessions and summary points: record, correct, order, publish."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from newsletter import ordering
from newsletter.extensions import db
from newsletter.sessions.fields import (
    FACTS,
    PUBLISHED,
    SERIES,
    Kind,
    SessionFacts,
    Spec,
    declare,
    facts_of,
)
from newsletter.sessions.importer import ParsedSession
from newsletter.sessions.models import DialogueSession, Series, SummaryPoint
from newsletter.slugs import slugify, unique_slug
from newsletter.validation import InvalidInput, check_characters, clean_block, clean_text

MAX_POINT = 5000
MAX_LISTED_NUMBER = 2**31 - 1  # beyond the column: no session has it
MAX_SERIES_DESCRIPTION = 5000
MAX_NAMES = 500  # supporters, partners, countries or attendees of one session


@dataclass(kw_only=True)
class SessionData(SessionFacts):
    """What staff enter for a session (the form, or an import they corrected)."""

    series_name: str = declare(SERIES)
    is_published: bool = declare(PUBLISHED)

    @classmethod
    def from_session(cls, session: DialogueSession) -> SessionData:
        return cls(
            series_name=session.series.name, is_published=session.is_published, **facts_of(session)
        )

    @classmethod
    def from_parsed(cls, parsed: ParsedSession) -> SessionData:
        return cls(series_name=parsed.series, **facts_of(parsed))


# -- series ----------------------------------------------------------------------------


def series_named(name: str) -> Series:
    """The series with this name, created if there is none."""
    name = clean_text(name, "series_name", SERIES.limit, label=SERIES.noun)
    if not name:
        raise InvalidInput(
            _l("A session belongs to a series: give the series a name."), "series_name"
        )
    found = db.session.scalar(sa.select(Series).where(sa.func.lower(Series.name) == name.lower()))
    if found is None:
        found = Series(name=name, slug=unique_slug(Series, slugify(name)))
        db.session.add(found)
        db.session.flush()
    return found


def all_series() -> list[Series]:
    return list(db.session.scalars(sa.select(Series).order_by(Series.name)))


# -- sessions --------------------------------------------------------------------------


def _clean_fact(name: str, spec: Spec, value: Any) -> Any:
    """A fact as staff entered it, checked as its declaration says."""
    noun = spec.noun or name
    if spec.kind is Kind.NAMES:
        if len(value) > MAX_NAMES:
            raise InvalidInput(f"A session lists at most {MAX_NAMES} of each ({noun}).", name)
        cleaned = [clean_text(item, name, spec.limit, label=noun) for item in value]
        return [item for item in cleaned if item]
    if spec.kind is Kind.LINE:
        value = clean_text(value, name, spec.limit, label=noun)
    elif spec.kind is Kind.TEXT:
        value = clean_block(value, name, spec.limit, label=noun)
    elif spec.kind is Kind.NUMBER and value is not None and not 0 < value <= spec.limit:
        raise InvalidInput(f"The {noun} is a whole number from 1 to {spec.limit}.", name)
    if spec.required and not value:
        raise InvalidInput(f"A session needs a {noun}.", name)
    return value


def save_session(data: SessionData, session: DialogueSession | None = None) -> DialogueSession:
    """Create a session (``session`` None) or update one from what staff entered."""
    facts = {name: _clean_fact(name, spec, getattr(data, name)) for name, spec in FACTS}
    series = series_named(data.series_name)
    if session is None:
        session = DialogueSession(series=series)
        db.session.add(session)
    session.series = series
    for name, value in facts.items():
        setattr(session, name, value)
    session.is_published = data.is_published
    base = slugify(session.title, 64)
    if data.held_on:
        base = f"{base}-{data.held_on.isoformat()}"
    with db.session.no_autoflush:
        session.slug = unique_slug(DialogueSession, base, session.id)
    db.session.flush()
    return session


def create_session(data: SessionData, points: Sequence[str] = ()) -> DialogueSession:
    """A new session with its points, inserted together (one multi-row INSERT)."""
    texts = [_point_text(text) for text in points if text.strip()]
    _check_point_count(len(texts))
    session = save_session(data)
    if texts:
        db.session.execute(
            sa.insert(SummaryPoint),
            [
                {"session_id": session.id, "text": text, "position": position}
                for position, text in enumerate(texts, start=1)
            ],
        )
        db.session.expire(session, ["points"])
    return session


def delete_session(session: DialogueSession) -> None:
    """Delete a session and its points; one with a detailed report is refused (its file
    versions and the record of who received them must stay)."""
    from newsletter.reports.models import Report  # reports build on sessions

    if db.session.scalar(sa.select(Report.id).where(Report.session_id == session.id)):
        raise InvalidInput(
            "This session has a detailed report: its versions and the record of who "
            "received it are kept, so the session cannot be deleted. Unpublish it instead."
        )
    db.session.delete(session)
    db.session.flush()


def all_sessions() -> list[DialogueSession]:
    query = (
        sa.select(DialogueSession)
        .options(selectinload(DialogueSession.series), selectinload(DialogueSession.points))
        .order_by(DialogueSession.held_on.desc().nulls_last(), DialogueSession.id.desc())
    )
    return list(db.session.scalars(query))


def published_session(slug: str) -> DialogueSession | None:
    return db.session.scalar(
        sa.select(DialogueSession).where(DialogueSession.slug == slug, DialogueSession.is_published)
    )


def session_by_reference(reference: str) -> DialogueSession | None:
    """A session by id or by slug (for commands)."""
    if reference.isdigit():
        return db.session.get(DialogueSession, int(reference))
    return db.session.scalar(sa.select(DialogueSession).where(DialogueSession.slug == reference))


# -- points ----------------------------------------------------------------------------


def _point_text(text: str) -> str:
    check_characters(text, "text", label="summary point")
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(_l("A summary point needs some text."), "text")
    if len(text) > MAX_POINT:
        raise InvalidInput(f"A summary point has at most {MAX_POINT} characters.", "text")
    return text


def save_points(
    session: DialogueSession,
    texts: Mapping[int, str],
    *,
    order: Sequence[int],
    removed: Collection[int] = (),
    move: tuple[int, int] | None = None,
    new: Sequence[str] = (),
) -> None:
    """Every point of a session as one form left them (see ``ordering.edit_rows``),
    and new points at the end."""

    def set_text(point: SummaryPoint, text: str) -> None:
        try:
            point.text = _point_text(text)
        except InvalidInput as error:
            raise InvalidInput(f"{error} Tick Remove to drop it.") from error

    ordering.edit_rows(
        session.points,
        noun="point",
        texts=texts,
        order=order,
        set_text=set_text,
        removed=removed,
        move=move,
    )
    for text in new:
        if text.strip():
            add_point(session, text)
    db.session.flush()


def find_duplicate(data: SessionData) -> DialogueSession | None:
    """A session of the same series, number and date as ``data`` (an import of a summary
    that is here already)."""
    try:  # a name that would be refused matches nothing (and reaches no query)
        name = clean_text(data.series_name, "series_name", SERIES.limit)
    except InvalidInput:
        return None
    if data.number is None or not 0 < data.number <= MAX_LISTED_NUMBER:
        return None
    if data.held_on is None or not name:
        return None
    return db.session.scalar(
        sa.select(DialogueSession)
        .join(Series)
        .where(
            sa.func.lower(Series.name) == name.lower(),
            DialogueSession.number == data.number,
            DialogueSession.held_on == data.held_on,
        )
        .order_by(DialogueSession.id)
        .limit(1)
    )


def update_from_import(session: DialogueSession, data: SessionData, points: Sequence[str]) -> None:
    """Correct ``session`` with a newer import of its summary: its facts, and its points
    in order (point n takes the n-th imported words, so digests quoting it follow;
    extra imported points are added, points beyond the import are removed)."""
    data.is_published = session.is_published
    save_session(data, session)
    current = list(session.points)
    kept = current[: len(points)]
    save_points(
        session,
        {point.id: text for point, text in zip(kept, points, strict=False)},
        order=[point.id for point in current],
        removed={point.id for point in current[len(points) :]},
        new=list(points[len(current) :]),
    )


def _check_point_count(count: int) -> None:
    limit = int(current_app.config["MAX_POINTS_PER_SESSION"])
    if count > limit:
        raise InvalidInput(
            f"A session holds at most {limit} summary points; this one would have "
            f"{count:,}. Split the summary, or keep its main points.",
            "points",
        )


def add_point(session: DialogueSession, text: str) -> SummaryPoint:
    _check_point_count(len(session.points) + 1)
    position = max((point.position for point in session.points), default=0) + 1
    point = SummaryPoint(session=session, text=_point_text(text), position=position)
    db.session.add(point)
    db.session.flush()
    return point


def rename_series(series: Series, name: str, description: str) -> None:
    name = clean_text(name, "series name", 200)
    if not name:
        raise InvalidInput(_l("A series needs a name."))
    clash = db.session.scalar(
        sa.select(Series.id).where(
            sa.func.lower(Series.name) == name.lower(), Series.id != series.id
        )
    )
    if clash is not None:
        raise InvalidInput(f"Another series is called {name!r} already.")
    series.name = name
    series.description = clean_block(description, "description", MAX_SERIES_DESCRIPTION)


def delete_series(series: Series) -> None:
    if series.sessions:
        raise InvalidInput(_l("Only a series without sessions can be deleted."))
    db.session.delete(series)
    db.session.flush()
