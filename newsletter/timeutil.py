"""Time helpers: every datetime the application handles is aware and in UTC."""

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.validation import InvalidInput


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Moment:
    utc: datetime
    local: datetime  # as given, in its own zone
    zone: str

    @property
    def described(self) -> str:
        """``2026-12-01 10:00 Asia/Kabul (05:30 UTC)``: the zone always said."""
        local = f"{self.local:%Y-%m-%d %H:%M} {self.zone}"
        if self.local.utcoffset() == self.utc.utcoffset():
            return local
        return f"{local} ({self.utc:%Y-%m-%d %H:%M} UTC)"


def parse_moment(when: str, zone: str = "UTC") -> Moment:
    """A date and time staff typed: with its own offset (``2026-12-01T10:00+05:00``) it
    means that; without one it is read in ``zone`` (an IANA name, or UTC)."""
    try:
        moment = datetime.fromisoformat((when or "").strip())
    except ValueError:
        raise InvalidInput(
            f"{when!r} is not a date and time. Give a date and a time like 2026-12-01T09:00.",
            "when",
        ) from None
    if moment.tzinfo is not None:
        offset = moment.strftime("%z")
        return Moment(moment.astimezone(UTC), moment, f"UTC{offset[:3]}:{offset[3:5]}")
    name = (zone or "UTC").strip()
    place: tzinfo
    try:
        place = UTC if name.upper() == "UTC" else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{name!r} is not a time zone: use a name such as Europe/Berlin, or UTC.", "zone"
        ) from None
    local = moment.replace(tzinfo=place)
    return Moment(local.astimezone(UTC), local, "UTC" if place is UTC else name)


def zone_names() -> list[str]:
    """Every time zone name this machine knows, for a form's suggestions."""
    from zoneinfo import available_timezones

    return sorted(available_timezones())
