"""The site's settings: what an admin saved, else the configuration's value.

Environment variables stay the only source for infrastructure and secrets (database,
relay, keys, the sender's address); the values here are what staff may change. A value
an admin never changed (or set back to the configured one) follows the configuration.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, fields
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from newsletter.auth.models import StaffUser
from newsletter.database import insert_or_ignore
from newsletter.extensions import db
from newsletter.settings.colours import HEX_COLOUR, brand_palette
from newsletter.settings.models import SETTINGS_ID, SiteSettings
from newsletter.subscriptions.models import ConsentText
from newsletter.timeutil import time_zones, utcnow
from newsletter.validation import InvalidInput, clean_block, clean_text, normalize_address

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_SIDE = 2000
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}
MAX_CONSENT = 2000


@dataclass(frozen=True)
class SiteValues:
    """What an admin edits on the settings page."""

    site_name: str
    organisation_name: str
    postal_address: str
    sender_name: str
    reply_to: str
    consent_text: str
    brand_colour: str
    time_zone: str


EDITABLE = tuple(field.name for field in fields(SiteValues))


@dataclass(frozen=True)
class Site(SiteValues):
    """The settings in force (hashable: compiled emails are cached by it)."""

    logo_version: str | None = None
    logo_type: str | None = None
    logo_width: int | None = None
    logo_height: int | None = None
    logo_alt: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def revision(self) -> str:
        """Changes whenever a value does: versions the brand stylesheet's address."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]

    @property
    def identity_missing(self) -> list[str]:
        """What the law asks every email to name and is not set yet."""
        missing = []
        if not self.organisation_name:
            missing.append("the organisation")
        if not self.postal_address:
            missing.append("the postal address")
        return missing

    @property
    def palette(self) -> dict[str, str]:
        return brand_palette(self.brand_colour)


def configured() -> SiteValues:
    """The values the configuration gives (environment, instance/config.py, defaults)."""
    config = current_app.config
    sender_name = parseaddr(str(config["MAIL_DEFAULT_SENDER"]))[0]
    return SiteValues(
        site_name=str(config["SITE_NAME"]),
        organisation_name=str(config["ORGANISATION_NAME"] or ""),
        postal_address=str(config["POSTAL_ADDRESS"] or ""),
        sender_name=sender_name or str(config["SITE_NAME"]),
        reply_to=str(config["MAIL_REPLY_TO"] or ""),
        consent_text=str(config["CONSENT_TEXT"]).strip(),
        brand_colour=str(config["BRAND_COLOUR"]),
        time_zone=str(config["TIME_ZONE"]),
    )


def _row() -> SiteSettings | None:
    return db.session.get(SiteSettings, SETTINGS_ID)


def current() -> Site:
    """The settings in force, read once per request (or command)."""
    cached: Site | None = g.get("site_settings")
    if cached is None:
        cached = _load()
        g.site_settings = cached
    return cached


def _load() -> Site:
    base = configured()
    row = _row()
    if row is None:
        return Site(**vars(base))
    chosen = {name: getattr(row, name) for name in EDITABLE}
    values = {
        name: getattr(base, name) if value is None else value for name, value in chosen.items()
    }
    return Site(
        **values,
        logo_version=row.logo_version,
        logo_type=row.logo_type,
        logo_width=row.logo_width,
        logo_height=row.logo_height,
        logo_alt=row.logo_alt or "",
    )


def _forget() -> None:
    g.pop("site_settings", None)


# -- changing them ---------------------------------------------------------------------


def _one_line(value: str, what: str, field: str, limit: int, *, required: bool = False) -> str:
    cleaned = clean_text(value, field, limit, label=what)
    if required and not cleaned:
        raise InvalidInput(f"Give the {what}.", field)
    return cleaned


def _checked(values: SiteValues) -> SiteValues:
    address = clean_block(values.postal_address, "postal_address", 500, label="postal address")
    address_lines = [" ".join(line.split()) for line in address.splitlines()]
    postal_address = "\n".join(line for line in address_lines if line)
    reply_to = values.reply_to.strip()
    if reply_to:
        try:
            reply_to = normalize_address(reply_to).email
        except InvalidInput as error:
            raise InvalidInput(str(error), "reply_to") from error
    consent = clean_block(
        values.consent_text, "consent_text", MAX_CONSENT, label="consent statement"
    )
    if not consent:
        raise InvalidInput(_l("The subscribe form needs a consent statement."), "consent_text")
    colour = values.brand_colour.strip().lower()
    if not HEX_COLOUR.match(colour):
        raise InvalidInput(_l("Give the colour as #rrggbb, for example #17324d."), "brand_colour")
    if values.time_zone not in time_zones():
        raise InvalidInput(_l("Choose a time zone from the list."), "time_zone")
    return SiteValues(
        site_name=_one_line(values.site_name, "site's name", "site_name", 100, required=True),
        organisation_name=_one_line(
            values.organisation_name, "organisation", "organisation_name", 200
        ),
        postal_address=postal_address,
        sender_name=_one_line(values.sender_name, "sender's name", "sender_name", 100),
        reply_to=reply_to,
        consent_text=consent,
        brand_colour=colour,
        time_zone=values.time_zone,
    )


def _settings_row() -> SiteSettings:
    row = _row()
    if row is None:
        row = SiteSettings(id=SETTINGS_ID)
        db.session.add(row)
    return row


def update(values: SiteValues, actor: StaffUser | None = None) -> Site:
    """Save what an admin entered; a value equal to the configured one is not stored, so
    that it follows the configuration. Each consent wording is kept as evidence."""
    checked = _checked(values)
    base = configured()
    row = _settings_row()
    for name in EDITABLE:
        value = getattr(checked, name)
        setattr(row, name, None if value == getattr(base, name) else value)
    row.updated_by_id = actor.id if actor else None
    row.updated_at = utcnow()
    record_consent_text(checked.consent_text)
    db.session.flush()
    _forget()
    return current()


def record_consent_text(text: str) -> str:
    """Keep this wording of the consent statement (once); return its version."""
    version = consent_version(text)
    if db.session.get(ConsentText, version) is None:
        insert_or_ignore(ConsentText, {"version": version, "text": text, "created_at": utcnow()})
    return version


def consent_version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def set_logo(data: bytes, alt: str, actor: StaffUser | None = None) -> None:
    """A PNG, JPEG or GIF of at most 512 KB, with the words that stand for it."""
    alt = _one_line(alt, "logo's text", "logo_alt", 200)
    if not alt:
        raise InvalidInput(_l("Say in words what the logo shows (its alt text)."), "logo_alt")
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidInput(_l("A logo has at most 512 KB."), "logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InvalidInput(_l("The logo must be a PNG, JPEG or GIF image."), "logo") from error
    if kind not in LOGO_TYPES:
        raise InvalidInput(_l("The logo must be a PNG, JPEG or GIF image."), "logo")
    if max(width, height) > MAX_LOGO_SIDE:
        raise InvalidInput(f"A logo is at most {MAX_LOGO_SIDE} pixels on each side.", "logo")
    row = _settings_row()
    row.logo = data
    row.logo_type = LOGO_TYPES[kind]
    row.logo_version = hashlib.sha256(data).hexdigest()[:16]
    row.logo_width, row.logo_height = width, height
    row.logo_alt = alt
    row.updated_by_id = actor.id if actor else None
    db.session.flush()
    _forget()


def set_logo_alt(alt: str) -> None:
    row = _row()
    if row is None or row.logo_version is None:
        return
    alt = _one_line(alt, "logo's text", "logo_alt", 200)
    if not alt:
        raise InvalidInput(_l("Say in words what the logo shows (its alt text)."), "logo_alt")
    row.logo_alt = alt
    _forget()


def remove_logo() -> None:
    row = _row()
    if row is not None:
        row.logo = None
        row.logo_type = row.logo_version = row.logo_alt = None
        row.logo_width = row.logo_height = None
        db.session.flush()
    _forget()


def logo(version: str) -> tuple[bytes, str] | None:
    """The logo's bytes and type, if ``version`` is the current one."""
    row = _row()
    if row is None or row.logo is None or row.logo_version != version:
        return None
    return row.logo, row.logo_type or "application/octet-stream"


def require_identity() -> None:
    """Refuse to send to subscribers until every email can name who sends it and where."""
    missing = current().identity_missing
    if missing:
        raise InvalidInput(
            f"Before the first send, an admin sets {' and '.join(missing)} in Settings: "
            "every email names them in its footer."
        )
