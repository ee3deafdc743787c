"""Dialogue series, their sessions, and each session's ordered summary points."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.dbtypes import UTCDateTime
from newsletter.extensions import Model
from newsletter.sessions.fields import column
from newsletter.timeutil import utcnow


class Series(Model):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list[DialogueSession]] = relationship(back_populates="series")


class DialogueSession(Model):
    """One session of a dialogue series, as its published summary describes it."""

    __tablename__ = "dialogue_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(
        sa.ForeignKey("series.id", ondelete="RESTRICT"), index=True
    )
    slug: Mapped[str] = mapped_column(sa.String(120), unique=True)
    # The facts a summary states: types, lengths and defaults from ``fields.SessionFacts``.
    number: Mapped[int | None] = column("number")
    title: Mapped[str] = column("title")
    held_on: Mapped[date | None] = column("held_on")
    host: Mapped[str] = column("host")
    supporters: Mapped[list[str]] = column("supporters")
    partners: Mapped[list[str]] = column("partners")
    participant_countries: Mapped[list[str]] = column("participant_countries")
    notable_attendees: Mapped[list[str]] = column("notable_attendees")
    narrative: Mapped[str] = column("narrative")
    is_published: Mapped[bool] = mapped_column(default=False)
    # {language: {"title": …, "narrative": …}}: the session in other languages (staff
    # enter them beside the original, or import a translated summary).
    translations: Mapped[dict[str, dict[str, str]] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    series: Mapped[Series] = relationship(back_populates="sessions")
    points: Mapped[list[SummaryPoint]] = relationship(
        back_populates="session",
        order_by="(SummaryPoint.position, SummaryPoint.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def heading(self) -> str:
        """ "Series · Session 2 · 8 June 2020", the line a digest prints over its points."""
        parts = [self.series.name] if self.series else []
        if self.number:
            parts.append(f"Session {self.number}")
        if self.held_on:
            parts.append(f"{self.held_on.day} {self.held_on:%B %Y}")
        return " · ".join(parts)


class SummaryPoint(Model):
    __tablename__ = "summary_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dialogue_sessions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(sa.Text)
    # {language: text}: this point in other languages.
    translations: Mapped[dict[str, str] | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[DialogueSession] = relationship(back_populates="points")
