"""Jinja filters for pages: dates in words and in the site's time zone, counts, states."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from newsletter import i18n
from newsletter.settings import services as site_settings
from newsletter.timeutil import as_utc
from newsletter.words import plural, shown_label


def local(moment: datetime) -> datetime:
    """``moment`` in the site's time zone (settings)."""
    return as_utc(moment).astimezone(site_settings.current().zone)


def day(value: date | datetime | None) -> str:
    """ "8 June 2020": never 06/08/2020, which half the world reads as 6 August; in the
    page's language (with the Solar Hijri date on Dari and Pashto pages)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value)
    return i18n.day(value)


def moment(value: datetime | None, seconds: bool = False) -> str:
    """ "8 June 2020, 14:05 (Asia/Kabul)": a date, time and zone of the site."""
    if value is None:
        return ""
    shown = local(value)
    return f"{i18n.day(shown.date())}, {i18n.clock(shown, seconds)}"


def input_value(value: datetime | None) -> str:
    """The value of a ``datetime-local`` field, in the site's time zone."""
    return "" if value is None else f"{local(value):%Y-%m-%dT%H:%M}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        day=day, moment=moment, input_value=input_value, label=shown_label, plural=plural
    )
