"""Read a pasted plain-text Track 2 session summary into structured fields.

``parse_summary`` is pure (no I/O) and raises nothing but ``SummaryNotReadable``.
Whatever it cannot find is left empty and explained, one short sentence per item,
in ``ParsedSession.warnings``; whatever it deliberately leaves out is named there too.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from newsletter.sessions import prose
from newsletter.sessions.fields import SessionFacts

MAX_CHARS = 200_000


class SummaryNotReadable(ValueError):
    """The text cannot be read as a session summary; str(exc) is a clear message for staff."""


@dataclass(kw_only=True)
class ParsedSession(SessionFacts):
    """What was read from a summary: "" / None / [] mean not found (see warnings)."""

    series: str = ""
    points: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Block(NamedTuple):
    """A paragraph or a point, its lines joined into one line with single spaces."""

    text: str
    is_point: bool


_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_LINE_BREAK_RE = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
# Every other Unicode space (what ``str.isspace`` and ``\s`` call one: tabs, no-break
# and em spaces, U+1680 …) and the Mongolian vowel separator become a plain space, and
# zero-width spaces go, before any pattern runs: afterwards a line holds single spaces
# only, so no pattern can meet a run of spaces to backtrack over.
_ODD_SPACE_RE = re.compile(r"[^\S\n]|\u180e")
_ZERO_WIDTH_RE = re.compile(r"[\u200b\u2060\ufeff]")
_SPACE_RUN_RE = re.compile(r" {2,}")
# Matched at the start of a line (``match``), each part bounded or followed by what it
# cannot match: linear.
_BULLET_RE = re.compile(r"^ ?(?:[•·▪‣◦●] ?|[-–—*] |\d{1,2}[.)] )(?P<text>\S.*)$")
_TITLE_RE = re.compile(r"^(?P<series>[^:]{2,120}):[ ](?P<title>\S.*)$")


_CALL_TO_ACTION_RE = re.compile(
    r"\b(?:detailed report|join our (?:newsletter|mailing list)"
    r"|subscribe to our (?:newsletter|mailing list))\b",
    re.IGNORECASE,
)


# The date, the number and the organisers are read from the opening of a summary (a
# real one states them in its first lines), and a "sentence" longer than this lists no
# participants or attendees: each fact costs a bounded scan, whatever the paste holds.
_FACTS_WITHIN = 10_000
_MAX_SENTENCE = 5_000


def parse_summary(text: str) -> ParsedSession:
    """Read every field that can be found; each missing item adds one warning.

    Raises SummaryNotReadable (and nothing else) only when the text is not readable text.
    """
    lines = _readable_lines(text)
    blocks = _blocks(lines)
    session = ParsedSession()
    body = blocks[_read_heading(blocks, session) :]
    paragraphs = [block.text for block in body if not block.is_point]
    intro = next((p for p in paragraphs if not _is_heading(p)), paragraphs[0] if paragraphs else "")
    sentences = [
        s for paragraph in paragraphs for s in prose.sentences(paragraph) if len(s) <= _MAX_SENTENCE
    ]

    session.held_on = prose.first_date("\n".join(lines)[:_FACTS_WITHIN])
    heading_and_prose = "\n".join([session.series, session.title, *paragraphs])
    session.number = prose.session_number(heading_and_prose[:_FACTS_WITHIN])
    session.host, session.supporters, session.partners = prose.organisers(intro[:_FACTS_WITHIN])
    session.participant_countries = prose.participant_countries(sentences)
    session.notable_attendees = prose.notable_attendees(sentences)
    session.points = [block.text for block in body if block.is_point]
    session.narrative = _narrative(body, session.warnings)
    session.warnings.extend(_missing_items(session))
    return session


def _readable_lines(text: str) -> list[str]:
    """Lines with unified line breaks, plain spaces and no trailing spaces; never all blank."""
    if not isinstance(text, str):
        raise SummaryNotReadable("The summary must be pasted as text.")
    if len(text) > MAX_CHARS:
        raise SummaryNotReadable(
            f"The text is too long ({len(text):,} characters): paste a single session "
            f"summary of at most {MAX_CHARS:,} characters."
        )
    if _CONTROL_RE.search(text):
        raise SummaryNotReadable(
            "The text contains binary control characters, so it is probably not plain text: "
            "copy the summary from a document and paste it again."
        )
    text = _LINE_BREAK_RE.sub("\n", text)
    text = _ZERO_WIDTH_RE.sub("", _ODD_SPACE_RE.sub(" ", text))
    lines = [_SPACE_RUN_RE.sub(" ", line).rstrip() for line in text.split("\n")]
    if not any(lines):
        raise SummaryNotReadable("The text is empty: paste the session summary.")
    return lines


def _blocks(lines: list[str]) -> list[_Block]:
    """Paragraphs end at a blank line or a bullet; points end at a blank line or the next bullet."""
    blocks: list[_Block] = []
    current: list[str] = []
    is_point = False
    for line in [*lines, ""]:
        bullet = _BULLET_RE.match(line)
        if (not line or bullet) and current:
            blocks.append(_Block(" ".join(current), is_point))
            current = []
        if bullet:
            current, is_point = [bullet["text"].strip()], True
        elif line.strip():
            is_point = is_point and bool(current)  # continues a point, or starts a paragraph
            current.append(line.strip())
    return blocks


_MAX_HEADING = 200  # a longer line is prose, not a heading


def _is_heading(text: str) -> bool:
    return len(text) <= _MAX_HEADING and not text.endswith((".", ":", ";", ","))


def _read_heading(blocks: list[_Block], session: ParsedSession) -> int:
    """Set series and title from the short lines on top; return how many blocks they used."""
    count = 0
    while count < min(3, len(blocks)) and not blocks[count].is_point:
        if not _is_heading(blocks[count].text):
            break
        count += 1
    for index, block in enumerate(blocks[:count]):
        match = _TITLE_RE.match(block.text)
        if match:
            session.series, session.title = match["series"].strip(), match["title"].strip()
            for tagline in blocks[:index]:
                session.warnings.append(f"Skipped the tagline line: “{_excerpt(tagline.text)}”.")
            return index + 1
    if count:
        session.title = blocks[0].text
        session.warnings.append(
            "No “Series: Title” line found: the first line became the title; fill in the series."
        )
        return 1
    return 0


def _narrative(body: list[_Block], warnings: list[str]) -> str:
    """Prose paragraphs without the points, their lead-in lines and closing calls to action."""
    closing = len(body)
    while closing and not body[closing - 1].is_point:
        if not _CALL_TO_ACTION_RE.search(body[closing - 1].text):
            break
        closing -= 1
    kept: list[str] = []
    for index, block in enumerate(body):
        following = body[index + 1] if index + 1 < len(body) else None
        if block.is_point:
            continue
        if block.text.endswith(":") and following is not None and following.is_point:
            warnings.append(f"Skipped the line introducing the points: “{_excerpt(block.text)}”.")
        elif index >= closing:
            warnings.append(f"Skipped the closing call to action: “{_excerpt(block.text)}”.")
        else:
            kept.append(block.text)
    return "\n\n".join(kept)


def _missing_items(session: ParsedSession) -> Iterator[str]:
    checks = (
        (session.title, "No title found: fill it in."),
        (session.series or session.title, "No series found: fill it in."),
        (session.held_on, "No date found: fill it in."),
        (session.number, "No session number found: fill it in."),
        (session.host, "No host found: fill it in."),
        (session.participant_countries, "No participant countries found: fill them in."),
        (
            session.points,
            "No summary points found: points are lines starting with •, -, * or a number.",
        ),
    )
    return (message for value, message in checks if not value)


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
