"""Facts in the prose of a session summary: sentences, the date, the session number,
the organisers (host, supporters, partners), participant countries, notable attendees.

Pure functions over text; the importer decides where each one is looked for, and gives
them text with single plain spaces (every Unicode space normalised, runs collapsed).

Every pattern runs in linear time: none nests quantifiers, a pattern that starts with
whitespace only starts where a run of it starts (``(?<!\\s)``), and none has a lazy
group before an anchor. The importer's tests feed each one 200,000 hostile characters.
"""

import re
from collections.abc import Iterator
from datetime import date

_MAX_ORGANISER_CLAUSE = 1_000  # longer text before "hosted" is not an organiser list

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)

_MONTH_KEYS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


_DATE_RE = re.compile(
    rf"\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH}),?\s+(?P<y1>\d{{4}})\b"
    rf"|\b(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{{4}})\b"
    r"|\b(?P<y3>\d{4})-(?P<m3>\d{1,2})-(?P<d3>\d{1,2})\b",
    re.IGNORECASE,
)

_ORDINALS = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)  # fmt: skip

_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}


_ORDINAL_SESSION_RE = re.compile(
    rf"(?i:(?<![\w-])(?:(?P<tens>{'|'.join(_TENS)})[-\s])?(?P<word>{'|'.join(_ORDINALS)})"
    r"|\b(?P<digits>\d{1,2})(?:st|nd|rd|th))"
    r"(?:\s+(?:[A-Z][\w’'-]*|\d+)){0,4}"
    r"\s+(?i:session|meeting|round|edition|dialogue|roundtable|workshop)\b"
)

_SESSION_NO_RE = re.compile(
    r"\b(?:session|meeting|round)\s+(?:no\.?\s*|number\s+|#\s*)?(?P<n>\d{1,3})\b", re.IGNORECASE
)

_HOST_VERB_RE = re.compile(r"\b(?:hosted|organised|organized|convened)\b")


_LEADING_TIME_RE = re.compile(
    r"^\s*(?:on|in|last|this|yesterday|today|earlier)\b"
    r"(?!\s+(?:partnership|cooperation|collaboration)\b)[^,()]{0,40},",
    re.IGNORECASE,
)

_MARKER_RE = re.compile(
    r"(?:,\s*|(?<!\s)\s+)?(?:\band\s+)?\b(?P<kind>with\s+(?:the\s+)?(?:[a-z]+\s+)?support\s+(?:from|of)"
    r"|in\s+(?:partnership|cooperation|collaboration)\s+with)\s+",
    re.IGNORECASE,
)

_COMMA_RE = re.compile(r",\s+")


_NAME_SEPARATOR_RE = re.compile(r",\s+and\s+|,\s+|(?<!\s)\s+and\s+")

_APPOSITION_RE = re.compile(r",\s+(?!(?:the|and)\b)[a-z]")


_ARTICLE_RE = re.compile(r"^the\s+", re.IGNORECASE)

_ABBREVIATION_RE = re.compile(
    r"\b(?:Dr|Mr|Mrs|Ms|Prof|Amb|Gen|Col|Capt|Lt|Sen|Rep|Hon|Jr|Sr|St|No|vs|approx)\."
    r"|\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\."
    r"|\be\.g\.|\bi\.e\.|\b[A-Z]\."
)

_SENTENCE_END_RE = re.compile(r"[.!?][\"”’)]*(?=\s+[\"“‘(]?[A-Z0-9])")


_PARTICIPANTS_RE = re.compile(r"\b(?:participants|attendees|speakers|panell?ists)\b", re.I)

_FROM_RE = re.compile(r"\bfrom\s+")


_COMPOUND_COUNTRIES = (
    "Antigua and Barbuda",
    "Bosnia and Herzegovina",
    "Saint Kitts and Nevis",
    "Saint Vincent and the Grenadines",
    "São Tomé and Príncipe",
    "Trinidad and Tobago",
)

_ATTENDED_RE = re.compile(
    r",?(?<!\s)\s+(?:also\s+)?(?:officially\s+)?(?:personally\s+)?"
    r"(?:attended\b|(?:was|were)\s+(?:also\s+)?present\b|joined\s+(?:the|this|us)\b)",
    re.IGNORECASE,
)

_ATTENDED_BY_RE = re.compile(
    r"\b(?:was|were)\s+(?:also\s+)?(?:officially\s+)?attended\s+by\s+(?P<who>.+)$", re.I
)

_GENERIC_SUBJECTS = frozenset(
    {
        "all", "both", "several", "many", "some", "over", "more", "around", "about", "most",
        "other", "we", "they", "participants", "experts", "diplomats", "scholars", "members",
        "representatives", "delegates",
    }
)  # fmt: skip

_PERSON_SEPARATOR_RE = re.compile(
    r"(?<!\s)\s+and\s+(?=H\.E\.|His |Her |Dr\.|Mr\.|Mrs\.|Ms\.|Prof\.|Ambassador |Minister )"
)


def sentences(paragraph: str) -> list[str]:
    """Sentences of a paragraph; abbreviations such as Dr. or U.S. never end one."""
    protected = _ABBREVIATION_RE.sub(lambda m: m.group().replace(".", "\x00"), paragraph)
    sentences, start = [], 0
    for match in _SENTENCE_END_RE.finditer(protected):
        sentences.append(protected[start : match.end()])
        start = match.end()
    sentences.append(protected[start:])
    return [s.strip().replace("\x00", ".") for s in sentences if s.strip()]


def first_date(text: str) -> date | None:
    """The first valid calendar date written in any of the accepted formats."""
    for match in _DATE_RE.finditer(text):
        if match["y3"]:
            year, month, day = int(match["y3"]), int(match["m3"]), int(match["d3"])
        else:
            name = match["m1"] or match["m2"]
            year, day = int(match["y1"] or match["y2"]), int(match["d1"] or match["d2"])
            month = _MONTH_KEYS.index(name[:3].lower()) + 1
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def session_number(text: str) -> int | None:
    """The number in the earliest "second session" / "2nd session" / "Session No. 2" phrase."""
    found = [m for m in (_ORDINAL_SESSION_RE.search(text), _SESSION_NO_RE.search(text)) if m]
    if not found:
        return None
    match = min(found, key=lambda m: m.start())
    if match.re is _SESSION_NO_RE:
        return int(match["n"]) or None
    if match["word"]:
        return (
            _TENS.get((match["tens"] or "").lower(), 0) + _ORDINALS.index(match["word"].lower()) + 1
        )
    return int(match["digits"]) or None


def organisers(intro: str) -> tuple[str, list[str], list[str]]:
    """Host, supporters and partners named before "hosted" (or "organised") in the intro."""
    candidates = sentences(intro) or [""]
    sentence = next((s for s in candidates if _HOST_VERB_RE.search(s)), candidates[0])
    verb = _HOST_VERB_RE.search(sentence)
    clause = sentence[: verb.start()] if verb else sentence
    if len(clause) > _MAX_ORGANISER_CLAUSE:
        return "", [], []
    date_match = _DATE_RE.search(clause)
    clause = clause[date_match.end() :] if date_match else _LEADING_TIME_RE.sub("", clause)
    host, segments = _split_markers(clause.strip(" ,;"))
    if not host and segments and verb:  # "With support from X, the Y hosted …"
        kind, last = segments[-1]
        cuts = list(_top_level(_COMMA_RE, last))
        if cuts:
            segments[-1] = (kind, last[: cuts[-1].start()])
            host = last[cuts[-1].end() :]
    supporters: list[str] = []
    partners: list[str] = []
    for kind, segment in segments:
        names = _split_organisations(_cut_apposition(segment))
        (supporters if "support" in kind.lower() else partners).extend(names)
    return (_drop_article(_cut_apposition(host)) if verb else ""), supporters, partners


def _split_markers(clause: str) -> tuple[str, list[tuple[str, str]]]:
    """Text before the first support/partnership marker, then (marker, text up to next)."""
    markers = list(_MARKER_RE.finditer(clause))
    if not markers:
        return clause, []
    ends = [m.start() for m in markers[1:]] + [len(clause)]
    segments = [(m["kind"], clause[m.end() : end]) for m, end in zip(markers, ends, strict=True)]
    return clause[: markers[0].start()].strip(" ,;"), segments


def _top_level(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Matches of pattern that are outside any parentheses or brackets (linear time)."""
    depth, scanned = 0, 0
    for match in pattern.finditer(text):
        chunk = text[scanned : match.start()]
        depth += chunk.count("(") + chunk.count("[") - chunk.count(")") - chunk.count("]")
        scanned = match.start()
        if depth <= 0:
            yield match


def _cut_apposition(text: str) -> str:
    """Text up to the first top-level ", a …" style clause (a lowercase word after a comma)."""
    cut = next(_top_level(_APPOSITION_RE, text), None)
    return (text[: cut.start()] if cut else text).strip(" ,;.")


def _list_items(text: str) -> list[tuple[str, str]]:
    """(separator before it, item) for a list split at ", " / " and " outside parentheses."""
    items: list[tuple[str, str]] = []
    separator, start = "", 0
    for match in _top_level(_NAME_SEPARATOR_RE, text):
        items.append((separator, text[start : match.start()]))
        separator, start = match.group(), match.end()
    items.append((separator, text[start:]))
    return items


def _split_organisations(text: str) -> list[str]:
    """Split at top-level ", " / " and " only where _separate_organisations allows it."""
    names: list[str] = []
    for separator, piece in _list_items(text):
        if names and not _separate_organisations(names[-1], separator, piece):
            names[-1] += separator + piece
        else:
            names.append(piece)
    return [_drop_article(name) for name in names if name.strip()]


def _drop_article(name: str) -> str:
    return _ARTICLE_RE.sub("", name.strip(" ,;")).strip()


def _looks_like_organisation(text: str) -> bool:
    name = _drop_article(text)
    words = name.split()
    return bool(words) and name[0].isupper() and (len(words) > 1 or "(" in name or name.isupper())


def _separate_organisations(left: str, separator: str, right: str) -> bool:
    """Whether two name-like texts are two organisations rather than one.

    A bare " and " is part of many names ("Institute for Peace and Security Studies"), so it
    separates only after an acronym in parentheses, before "the", or between two acronyms.
    """
    if not (_looks_like_organisation(left) and _looks_like_organisation(right)):
        return False
    if separator.strip() != "and":
        return True
    left, right = left.strip(), right.strip()
    return (
        left.endswith(")")
        or right.lower().startswith("the ")
        or (left.isupper() and right.isupper())
    )


def participant_countries(sentences: list[str]) -> list[str]:
    """Capitalised names listed after "from" in the first sentence about participants."""
    for sentence in sentences:
        who = _PARTICIPANTS_RE.search(sentence)
        origin = _FROM_RE.search(sentence, who.end()) if who else None
        if not origin:
            continue
        listed = re.sub(r"(?<![A-Z]\.[A-Z])\.$", "", sentence[origin.end() :].strip())
        for compound in _COMPOUND_COUNTRIES:
            listed = listed.replace(compound, compound.replace(" and ", " \x00 "))
        countries = [
            _drop_article(item).replace(" \x00 ", " and ") for _, item in _list_items(listed)
        ]
        return [country for country in countries if country[:1].isupper()]
    return []


def notable_attendees(sentences: list[str]) -> list[str]:
    """People (with titles and roles) said to have attended, been present or joined."""
    attendees: list[str] = []
    for sentence in sentences:
        who = _attendance_subject(sentence)
        if _looks_like_person(who):
            names = _PERSON_SEPARATOR_RE.split(who)
            attendees.extend(name.strip(" ,") for name in names)
    return attendees


def _attendance_subject(sentence: str) -> str:
    """Who "attended" / "was present" / "joined the …", or who the meeting "was attended by"."""
    passive = _ATTENDED_BY_RE.search(sentence)
    if passive:
        who = passive["who"]
        return who[:-1] if who.endswith((".", "!")) else who
    verb = _ATTENDED_RE.search(sentence)
    return sentence[: verb.start()].strip(" ,") if verb else ""


_NAME_WORDS = 2  # a first name and a surname
_MAX_PERSON = 250  # a longer phrase is a sentence, not a name with its titles


def _looks_like_person(text: str) -> bool:
    """At least two capitalised words (a name), not a generic subject ("The meeting")."""
    words = text.split()
    capitalised = sum(1 for word in words if word[:1].isupper())
    return (
        capitalised >= _NAME_WORDS
        and len(text) <= _MAX_PERSON
        and words[0][:1].isupper()
        and words[0].lower() not in _GENERIC_SUBJECTS
    )
