"""Languages: which ones the site speaks, which one a request or a person gets, and the
words, dates and numbers in it.

A language is a tag as it appears in ``NEWSLETTER_LANGUAGES`` (``en``, ``fa-AF``, ``ps``;
the first is the default), and each one other than English is a gettext catalog under
``newsletter/translations/<locale>/``: adding a language is adding a catalog and naming
it in the setting. Public pages follow, in order, a language a view has fixed (a page
reached by a personal link speaks its reader's language), the switcher's cookie, then
``Accept-Language``; emails are rendered in the
recipient's language with ``force_language``. Staff pages speak the staff member's own
choice, else the default language.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import jdatetime
from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import Babel, force_locale, lazy_gettext, pgettext, refresh

COOKIE = "lang"
_EXTENSION = "newsletter.languages"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
_TAG_RE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")

# The Solar Hijri months as Afghanistan names them (Hamal … Hut), not Iran's
# (Farvardin …): translated per language by the catalogs.
_SOLAR_MONTHS = (
    lazy_gettext("Hamal"),
    lazy_gettext("Sawr"),
    lazy_gettext("Jawza"),
    lazy_gettext("Saratan"),
    lazy_gettext("Asad"),
    lazy_gettext("Sunbula"),
    lazy_gettext("Mizan"),
    lazy_gettext("Aqrab"),
    lazy_gettext("Qaws"),
    lazy_gettext("Jadi"),
    lazy_gettext("Dalw"),
    lazy_gettext("Hut"),
)


_PLACEHOLDER_RE = re.compile(r"%\((\w+)\)s")


def placeholders(text: str) -> list[str]:
    """The ``%(name)s`` placeholders of a message, sorted (a translation keeps them)."""
    return sorted(_PLACEHOLDER_RE.findall(text))


def parse_languages(value: object) -> list[str]:
    """``NEWSLETTER_LANGUAGES`` (``"en,fa-AF,ps"``) as tags; refuses an
    empty list, a malformed tag or one without a catalog (English needs none)."""
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    tags = [str(item).strip() for item in items if str(item).strip()]
    if not tags:
        raise RuntimeError("NEWSLETTER_LANGUAGES must name at least one language, e.g. 'en'")
    for tag in tags:
        if not _TAG_RE.match(tag):
            raise RuntimeError(f"NEWSLETTER_LANGUAGES: {tag!r} is not a language tag")
        if not tag.startswith("en") and not (TRANSLATIONS / locale_id(tag)).is_dir():
            raise RuntimeError(
                f"NEWSLETTER_LANGUAGES: there is no catalog for {tag!r} "
                f"(newsletter/translations/{locale_id(tag)}/)"
            )
    return list(dict.fromkeys(tags))


def locale_id(tag: str) -> str:
    """``fa-AF`` → ``fa_AF`` (Babel's and gettext's spelling)."""
    return tag.replace("-", "_")


def languages() -> list[str]:
    return list(current_app.extensions[_EXTENSION])


def default_language() -> str:
    return languages()[0]


def known(tag: str | None) -> str | None:
    """``tag`` as configured (matched without regard to case), or None."""
    if not tag:
        return None
    wanted = tag.strip().lower()
    return next((lang for lang in languages() if lang.lower() == wanted), None)


def check_language(tag: str | None) -> str:
    """A language a person chose (a form, a command, a file): one of LANGUAGES as
    configured, or "" for none; anything else is refused with the choices named."""
    if not tag or not tag.strip():
        return ""
    chosen = known(tag)
    if chosen is None:
        from newsletter.validation import InvalidInput

        raise InvalidInput(
            f"Unknown language {tag.strip()[:40]!r}: choose one of {', '.join(languages())}."
        )
    return chosen


def or_default(tag: str | None) -> str:
    return known(tag) or default_language()


def from_accept_language() -> str:
    """The configured language the browser prefers (``fa`` matches ``fa-AF``)."""
    tags = languages()
    best = request.accept_languages.best_match(tags)
    if best:
        return best
    for wanted, _quality in request.accept_languages:
        base = wanted.split("-")[0].lower()
        for tag in tags:
            if tag.split("-")[0].lower() == base:
                return tag
    return tags[0]


def fix_language(tag: str | None) -> None:
    """Make the rest of this request speak ``tag`` (a page of a personal link)."""
    g.fixed_language = or_default(tag)
    refresh()  # Flask-Babel keeps the locale it chose first for the request


def refresh_language() -> None:
    """Forget the language chosen for this request (a person just changed theirs)."""
    refresh()


def language_fixed() -> bool:
    """Whether this page speaks a person's own language (``fix_language``)."""
    return bool(has_request_context() and g.get("fixed_language"))


def request_language() -> str:
    """The language of the page being built (see the module's docstring)."""
    fixed = g.get("fixed_language")
    if fixed:
        return str(fixed)
    if request.blueprint in {"staff", "outbox"}:
        # Staff pages follow the staff member's own choice (their account page), not
        # the public switcher nor the browser.
        from flask_login import current_user

        return known(getattr(current_user, "language", None)) or default_language()
    chosen = known(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    return from_accept_language()


def current_language() -> str:
    """The language being rendered: a forced one (an email), else the request's."""
    forced = g.get("forced_language") if has_app_context() else None
    if forced:
        return str(forced)
    if has_request_context():
        return request_language()
    return default_language()


def _select_locale() -> str:
    return locale_id(current_language())


@contextlib.contextmanager
def force_language(tag: str | None) -> Iterator[str]:
    """Render in ``tag`` (an email to one reader) whatever the request speaks."""
    language = or_default(tag)
    previous = g.get("forced_language")
    g.forced_language = language
    try:
        with force_locale(locale_id(language)):
            yield language
    finally:
        g.forced_language = previous


def direction(tag: str | None = None) -> str:
    """``rtl`` or ``ltr``, as the CLDR says the language is written."""
    locale = Locale.parse(locale_id(tag or current_language()))
    return "rtl" if locale.character_order == "right-to-left" else "ltr"


def language_name(tag: str) -> str:
    """A language in its own words (``دری`` for fa-AF, for the switcher and forms)."""
    own = {"fa-AF": "دری", "ps": "پښتو"}  # CLDR calls both by their ISO names
    if tag in own:
        return own[tag]
    return Locale.parse(locale_id(tag)).get_display_name(locale_id(tag)) or tag


def choices() -> list[tuple[str, str]]:
    return [(tag, language_name(tag)) for tag in languages()]


def _numbering(locale: Locale) -> str:
    return str(locale.default_numbering_system or "latn")


_DIGITS = {"arabext": "۰۱۲۳۴۵۶۷۸۹", "arab": "٠١٢٣٤٥٦٧٨٩"}


def digits(text: str, tag: str | None = None) -> str:
    """ASCII digits in ``text`` written as the language writes them (Afghan Persian
    digits for fa-AF and ps, as the CLDR gives)."""
    system = _numbering(Locale.parse(locale_id(tag or current_language())))
    table = _DIGITS.get(system)
    return text.translate(str.maketrans("0123456789", table)) if table else text


def number(value: int | float) -> str:
    """``value`` with the language's separators and digits (Babel gives the separators;
    its numbering systems do not change the digits themselves)."""
    locale = Locale.parse(locale_id(current_language()))
    return digits(format_decimal(value, locale=locale, numbering_system=_numbering(locale)))


def solar_month_name(number: int) -> str:
    """The Afghan name of Solar Hijri month ``number`` (1: Hamal) in the language."""
    return str(_SOLAR_MONTHS[number - 1])


def solar_hijri(value: date) -> str:
    """``19 Jawza 1399``: the Solar Hijri date (jdatetime's conversion), with the
    language's month names and digits."""
    solar = jdatetime.date.fromgregorian(date=value)
    month = str(_SOLAR_MONTHS[solar.month - 1])
    return digits(f"{solar.day} {month} {solar.year}")


def uses_solar_calendar(tag: str | None = None) -> bool:
    """Dari and Pashto pages show the Solar Hijri date beside the Gregorian one."""
    return (tag or current_language()).split("-")[0].lower() in {"fa", "ps"}


def day(value: date) -> str:
    """A date in words for the language ("8 June 2020"; in Dari "۸ جون ۲۰۲۰ (۱۹ جوزا
    ۱۳۹۹)")."""
    locale = Locale.parse(locale_id(current_language()))
    if locale.language == "en":
        text = f"{value.day} {value:%B %Y}"
    else:
        text = digits(babel_format_date(value, "d MMMM y", locale=locale))
    if uses_solar_calendar():
        text += f" ({solar_hijri(value)})"
    return text


def clock(moment: datetime, seconds: bool = False) -> str:
    return digits(f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}")


def init_app(app: Flask) -> None:
    tags = parse_languages(app.config["LANGUAGES"])
    # The setting stays text (processes started for a send get it again as such); the
    # parsed tags are kept beside it.
    app.config["LANGUAGES"] = ",".join(tags)
    app.extensions[_EXTENSION] = tags
    Babel(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(TRANSLATIONS),
        default_locale=locale_id(tags[0]),
    )
    app.jinja_env.globals.update(
        current_language=current_language,
        text_direction=direction,
        language_name=language_name,
        language_fixed=language_fixed,
        language_choices=choices,
        pgettext=pgettext,
    )
    app.jinja_env.filters.update(number=number, digits=digits)
