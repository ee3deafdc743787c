"""A session in other languages: its title, narrative and points, typed by staff
beside the original or read from a pasted translated summary of the sample's shape
(``read_summary``: points, date in Solar Hijri or Gregorian with Persian or Latin
digits, participant countries).

Month and country names come from the CLDR (Babel) and jdatetime, and the Afghan
Solar Hijri month names from the catalogs: adding a language adds them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import jdatetime
from babel import Locale
from babel.dates import get_month_names
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from newsletter import i18n
from newsletter.extensions import db
from newsletter.sessions.models import DialogueSession
from newsletter.validation import InvalidInput, check_characters, clean_block, clean_text

MAX_CHARS = 200_000
MAX_TITLE = 300
MAX_POINT = 20_000
_LISTED = 2  # countries named together: the participants' list, not a passing mention
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_BULLET_RE = re.compile(r"^\s*(?:[•·▪‣◦●]|[-–—*]\s|\d{1,2}[.)]\s)\s*(?P<text>\S.*)$")
_DATE_RE = re.compile(r"(?P<day>\d{1,2})\s+(?P<month>[^\s\d()،,]+)\s+(?P<year>\d{4})")


@dataclass
class TranslatedSummary:
    title: str = ""
    held_on: date | None = None
    countries: list[str] = field(default_factory=list)  # English names, as the session's
    points: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _months(language: str) -> dict[str, tuple[str, int]]:
    """Month name → (calendar, number) for the language: the CLDR's Gregorian names
    (Afghan and Iranian spellings), the Afghan Solar Hijri names of the catalogs and
    jdatetime's Iranian ones."""
    names: dict[str, tuple[str, int]] = {}
    for locale in {i18n.locale_id(language), "fa", "fa_AF", "ps", "en"}:
        for number, name in get_month_names("wide", locale=locale).items():
            names[str(name)] = ("gregorian", number)
    for number, name in enumerate(jdatetime.date.j_months_fa, start=1):
        names[name] = ("solar", number)
    with force_locale(i18n.locale_id(language)):
        for number in range(1, 13):
            names[i18n.solar_month_name(number)] = ("solar", number)
    return names


def _countries(language: str) -> dict[str, str]:
    """Country name in the language → its English name (the CLDR's)."""
    english = Locale.parse("en").territories
    own = Locale.parse(i18n.locale_id(language)).territories
    found = {str(name): str(english[code]) for code, name in own.items() if code.isalpha()}
    found["امریکا"] = found["آمریکا"] = found["ایالات متحدهٔ امریکا"] = "United States"
    return found


def _read_date(text: str, language: str) -> tuple[date | None, str]:
    months = _months(language)
    for match in _DATE_RE.finditer(text):
        known = months.get(match.group("month"))
        if known is None:
            continue
        calendar, month = known
        day, year = int(match.group("day")), int(match.group("year"))
        try:
            if calendar == "solar":
                return jdatetime.date(year, month, day).togregorian(), ""
            return date(year, month, day), ""
        except ValueError:
            return None, f"The date “{match.group(0)}” does not exist."
    return None, "No date was found (a day, a month name and a year)."


def read_summary(text: str, language: str) -> TranslatedSummary:
    """Read a summary in ``language`` shaped like the sample: a slogan line, then
    "series: title", a paragraph with the date, one naming the participants' countries,
    and the points as bulleted lines. Pure; whatever is not found is a warning."""
    if len(text) > MAX_CHARS:
        raise InvalidInput(f"A pasted summary has at most {MAX_CHARS:,} characters.")
    text = text.translate(_DIGITS).replace("\r\n", "\n")
    lines = [line.strip() for line in text.split("\n")]
    summary = TranslatedSummary()
    paragraphs = [line for line in lines if line and not _BULLET_RE.match(line)]
    titled = next((line for line in paragraphs[:4] if ":" in line), "")
    summary.title = titled.split(":", 1)[1].strip() if titled else ""
    if not summary.title:
        summary.warnings.append("No title was found (a line “series: title”).")
    summary.held_on, problem = _read_date(text, language)
    if problem:
        summary.warnings.append(problem)
    names = _countries(language)
    pattern = re.compile("|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)))
    for paragraph in paragraphs:
        found = [names[match.group(0)] for match in pattern.finditer(paragraph)]
        if len(found) >= _LISTED:  # the paragraph that lists the participants' countries
            summary.countries = list(dict.fromkeys(found))
            break
    if not summary.countries:
        summary.warnings.append("No list of participants' countries was found.")
    for line in lines:
        bullet = _BULLET_RE.match(line)
        if bullet:
            summary.points.append(" ".join(bullet.group("text").split()))
    if not summary.points:
        summary.warnings.append("No points were found (bulleted lines).")
    return summary


@dataclass
class ImportReport:
    language: str
    points: int
    problems: list[str]

    @property
    def summary(self) -> str:
        said = f"Read {self.points} translated points ({i18n.language_name(self.language)})."
        return " ".join([said, *self.problems])


def import_translation(session: DialogueSession, language: str, text: str) -> ImportReport:
    """Fill the session's translation in ``language`` from a pasted summary: its title
    and its points by position. The date and countries it states are checked against
    the session's (a translation of another session is refused). Flushes."""
    _check_language(language)
    summary = read_summary(text, language)
    if summary.held_on and session.held_on and summary.held_on != session.held_on:
        raise InvalidInput(
            f"This summary is dated {summary.held_on:%Y-%m-%d} and the session "
            f"{session.held_on:%Y-%m-%d}: is it the translation of another session?"
        )
    if not summary.points:
        raise InvalidInput(_l("No points were found in the pasted summary (bulleted lines)."))
    problems = list(summary.warnings)
    if summary.countries and session.participant_countries:
        ours = {name.removeprefix("the ").lower() for name in session.participant_countries}
        theirs = {name.lower() for name in summary.countries}
        if not theirs <= ours | {"united kingdom"}:
            problems.append("Its countries differ from the session's.")
    if len(summary.points) != len(session.points):
        problems.append(
            f"It has {len(summary.points)} points and the session {len(session.points)}: "
            "they were matched in order, check them."
        )
    save(
        session,
        language,
        title=summary.title or (session.translations or {}).get(language, {}).get("title", ""),
        narrative=(session.translations or {}).get(language, {}).get("narrative", ""),
        points={
            point.id: text for point, text in zip(session.points, summary.points, strict=False)
        },
        countries=summary.countries,
    )
    return ImportReport(language, min(len(summary.points), len(session.points)), problems)


def save(
    session: DialogueSession,
    language: str,
    *,
    title: str,
    narrative: str,
    points: dict[int, str],
    countries: list[str] | None = None,
) -> None:
    """Store the session's translation in ``language`` (empty texts remove it). Flushes."""
    _check_language(language)
    entry = {
        "title": clean_text(title, "title", MAX_TITLE),
        "narrative": clean_block(narrative, "narrative", MAX_CHARS),
    }
    if countries:
        entry["countries"] = ", ".join(countries)
    translated = dict(session.translations or {})
    translated[language] = {key: value for key, value in entry.items() if value}
    session.translations = {key: value for key, value in translated.items() if value} or None
    by_id = {point.id: point for point in session.points}
    for point_id, text in points.items():
        point = by_id.get(point_id)
        if point is None:
            raise InvalidInput(f"Point {point_id} is not in this session.")
        check_characters(text, "text", label="point")
        words = " ".join(text.split())
        if len(words) > MAX_POINT:
            raise InvalidInput(f"A point has at most {MAX_POINT:,} characters.")
        own = dict(point.translations or {})
        if words:
            own[language] = words
        else:
            own.pop(language, None)
        point.translations = own or None
    db.session.flush()


def missing(session: DialogueSession, language: str) -> list[str]:
    gaps = [] if (session.translations or {}).get(language, {}).get("title") else ["title"]
    gaps += [
        f"point {number}"
        for number, point in enumerate(session.points, start=1)
        if not (point.translations or {}).get(language)
    ]
    return gaps


def _check_language(language: str) -> None:
    if language not in i18n.languages()[1:]:
        raise InvalidInput(
            f"{language!r} is not a language to translate into: choose one of "
            f"{', '.join(i18n.languages()[1:]) or 'none'}."
        )
