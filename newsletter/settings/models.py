"""The one row of settings an admin changed; an empty column follows the configuration."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column

from newsletter.dbtypes import UTCDateTime
from newsletter.extensions import Model
from newsletter.timeutil import utcnow

SETTINGS_ID = 1


class SiteSettings(Model):
    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_name: Mapped[str | None] = mapped_column(sa.String(100))
    organisation_name: Mapped[str | None] = mapped_column(sa.String(200))
    postal_address: Mapped[str | None] = mapped_column(sa.String(500))
    sender_name: Mapped[str | None] = mapped_column(sa.String(100))
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    consent_text: Mapped[str | None] = mapped_column(sa.Text)
    brand_colour: Mapped[str | None] = mapped_column(sa.String(7))
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    # The logo, served from /site/logo/<version>; loaded only when it is served.
    logo: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    logo_type: Mapped[str | None] = mapped_column(sa.String(32))
    logo_version: Mapped[str | None] = mapped_column(sa.String(16))
    logo_width: Mapped[int | None] = mapped_column()
    logo_height: Mapped[int | None] = mapped_column()
    logo_alt: Mapped[str | None] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="SET NULL")
    )
