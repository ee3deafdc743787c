"""Staff accounts."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from newsletter.dbtypes import UTCDateTime, enum_column
from newsletter.extensions import Model
from newsletter.timeutil import utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything, including staff accounts
    EDITOR = "editor"  # content: sessions, points, digests


class StaffUser(Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    email_key: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.EDITOR)
    is_active: Mapped[bool] = mapped_column(default=True)
    # The interface language they chose (a tag of LANGUAGES); empty: their browser's.
    language: Mapped[str] = mapped_column(sa.String(35), default="", server_default="")
    # Part of the login session's identity: raising it (new password, deactivation)
    # ends every session of this account.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def display_name(self) -> str:
        return self.name or self.email
