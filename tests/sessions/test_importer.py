"""Reading pasted session summaries: the real sample, format variants, unreadable text."""

import random
from datetime import date
from pathlib import Path

import pytest

from newsletter.sessions.importer import (
    MAX_CHARS,
    ParsedSession,
    SummaryNotReadable,
    parse_summary,
)

SAMPLE_PATH = (
    Path(__file__).resolve().parents[2]
    / "newsletter"
    / "demo"
    / "has-track2-session-2020-06-08.txt"
)

SHORT = """\
HAS Track 2 Dialogue Series: Regional Views on the Peace Process

On 8 June 2020, the Heart of Asia Society (HAS), with support from the Konrad Adenauer \
Stiftung (KAS), hosted the third session of a Track 2 expert discussion.

The participants included scholars from Afghanistan, Iran and the United Kingdom.

The main points were:

  • Regional countries back the talks.
  • Funding depends on rights being respected.
  • A ceasefire is the first test.
"""
SHORT_POINTS = [
    "Regional countries back the talks.",
    "Funding depends on rights being respected.",
    "A ceasefire is the first test.",
]


def missing(parsed: ParsedSession, what: str) -> bool:
    """Whether a warning says this item was not found."""
    return any(warning.startswith(f"No {what} found") for warning in parsed.warnings)


@pytest.fixture(scope="module")
def sample() -> ParsedSession:
    return parse_summary(SAMPLE_PATH.read_text(encoding="utf-8"))


def test_sample_series_and_title(sample: ParsedSession) -> None:
    assert sample.series == "HAS Track 2 Dialogue Series"
    assert sample.title == (
        "Political Agreement in Kabul Paves the Way for Intra-Afghan Negotiations"
    )


def test_sample_date_and_session_number(sample: ParsedSession) -> None:
    assert sample.held_on == date(2020, 6, 8)
    assert sample.number == 2


def test_sample_host_supporter_and_partner(sample: ParsedSession) -> None:
    assert sample.host == "Heart of Asia Society (HAS)"
    assert sample.supporters == ["Konrad Adenauer Stiftung (KAS)"]
    assert sample.partners == ["New York University’s Center on International Cooperation (CIC)"]


def test_sample_participant_countries_in_order(sample: ParsedSession) -> None:
    assert sample.participant_countries == [
        "Afghanistan",
        "China",
        "Russia",
        "Germany",
        "Kyrgyzstan",
        "India",
        "Norway",
        "Pakistan",
        "Qatar",
        "UK",
        "United States",
    ]


def test_sample_notable_attendee_keeps_title_and_role(sample: ParsedSession) -> None:
    assert sample.notable_attendees == [
        "His Excellency Dr. Abdullah Abdullah, Chairman of the High Council for "
        "National Reconciliation (HCNR)"
    ]


def test_sample_all_fifteen_points_whole(sample: ParsedSession) -> None:
    assert len(sample.points) == 15
    assert sample.points[0].startswith("In Afghanistan there is broad consensus")
    assert sample.points[0].endswith("(IAN).")
    assert sample.points[-1].startswith("India and Pakistan have each")
    assert sample.points[-1].endswith("long-term stability.")
    assert "Heart of Asia – Istanbul Process" in sample.points[7]
    for point in sample.points:
        assert "\n" not in point
        assert not point.startswith(("•", " "))


def test_sample_narrative_keeps_prose_only(sample: ParsedSession) -> None:
    paragraphs = sample.narrative.split("\n\n")
    assert paragraphs[0].startswith("On 8 June 2020, the Heart of Asia Society")
    assert paragraphs[1].startswith("The participants included former diplomats")
    assert "In the first part of the meeting" in sample.narrative
    assert paragraphs[-1].startswith("HAS and its partners are planning")
    assert "detailed report" not in sample.narrative
    assert "Building Peace and Connectivity" not in sample.narrative
    assert "brief summary of the main points" not in sample.narrative
    for point in sample.points:
        assert point not in sample.narrative


def test_sample_warns_only_about_skipped_lines(sample: ParsedSession) -> None:
    assert not [w for w in sample.warnings if w.startswith("No ")]
    assert any(w.startswith("Skipped the closing call to action") for w in sample.warnings)
    assert any(w.startswith("Skipped the tagline line") for w in sample.warnings)


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_endings_read_like_unix(
    sample: ParsedSession, newline: str
) -> None:
    text = SAMPLE_PATH.read_text(encoding="utf-8").replace("\n", newline)
    assert parse_summary(text) == sample


def test_short_summary_is_read_completely() -> None:
    parsed = parse_summary(SHORT)
    assert parsed.series == "HAS Track 2 Dialogue Series"
    assert parsed.number == 3
    assert parsed.host == "Heart of Asia Society (HAS)"
    assert parsed.participant_countries == ["Afghanistan", "Iran", "United Kingdom"]
    assert parsed.points == SHORT_POINTS
    assert not [w for w in parsed.warnings if w.startswith("No ")]


@pytest.mark.parametrize(
    "marks",
    [["-", "-", "-"], ["*", "*", "*"], ["1.", "2.", "3."], ["1)", "2)", "3)"], ["–", "▪", "·"]],
)
def test_other_bullet_styles(marks: list[str]) -> None:
    text = SHORT
    for mark, point in zip(marks, SHORT_POINTS, strict=True):
        text = text.replace(f"  • {point}", f"{mark} {point}")
    assert parse_summary(text).points == SHORT_POINTS


def test_point_wrapped_over_two_lines_is_joined() -> None:
    text = SHORT.replace(
        "  • Funding depends on rights being respected.",
        "  • Funding depends on\n    rights being respected.",
    )
    parsed = parse_summary(text)
    assert parsed.points == SHORT_POINTS


def test_blank_line_ends_a_point() -> None:
    text = SHORT + "\nThe series will continue in the autumn.\n"
    parsed = parse_summary(text)
    assert parsed.points == SHORT_POINTS
    assert parsed.narrative.endswith("The series will continue in the autumn.")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("8 June 2020", date(2020, 6, 8)),
        ("June 8, 2020", date(2020, 6, 8)),
        ("8th June 2020", date(2020, 6, 8)),
        ("2020-06-08", date(2020, 6, 8)),
        ("21st of Sept. 2021", date(2021, 9, 21)),
    ],
)
def test_date_formats(written: str, expected: date) -> None:
    parsed = parse_summary(SHORT.replace("8 June 2020", written))
    assert parsed.held_on == expected
    assert parsed.host == "Heart of Asia Society (HAS)"


def test_first_valid_date_wins() -> None:
    text = SHORT.replace("On 8 June 2020,", "On 31 June 2020, that is 1 July 2020,") + (
        "\nThe next session is planned for 3 September 2020.\n"
    )
    assert parse_summary(text).held_on == date(2020, 7, 1)


def test_missing_date_is_a_warning_and_the_rest_is_still_read() -> None:
    parsed = parse_summary(SHORT.replace("On 8 June 2020, the", "The"))
    assert parsed.held_on is None
    assert "No date found: fill it in." in parsed.warnings
    assert parsed.host == "Heart of Asia Society (HAS)"
    assert parsed.supporters == ["Konrad Adenauer Stiftung (KAS)"]
    assert parsed.number == 3
    assert parsed.points == SHORT_POINTS


def test_missing_points_is_a_warning() -> None:
    text = SHORT.split("The main points were:", maxsplit=1)[0]
    parsed = parse_summary(text)
    assert parsed.points == []
    assert (
        "No summary points found: points are lines starting with •, -, * or a number."
        in parsed.warnings
    )
    assert parsed.held_on == date(2020, 6, 8)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("the third session", 3),
        ("the twelfth session", 12),
        ("the 11th session", 11),
        ("the 2nd HAS Track 2 session", 2),
        ("session 4", 4),
        ("Session No. 5", 5),
        ("the twenty-first session", 21),
    ],
)
def test_session_number(phrase: str, expected: int) -> None:
    assert parse_summary(SHORT.replace("the third session", phrase)).number == expected


def test_ordinal_not_followed_by_session_is_not_a_number() -> None:
    text = SHORT.replace("the third session", "a session") + "\nIn the first part, we spoke.\n"
    parsed = parse_summary(text)
    assert parsed.number is None
    assert "No session number found: fill it in." in parsed.warnings


def test_two_supporters_and_two_partners() -> None:
    text = SHORT.replace(
        "with support from the Konrad Adenauer Stiftung (KAS),",
        "with support from the Konrad Adenauer Stiftung (KAS) and the Friedrich Ebert "
        "Stiftung (FES), in partnership with the Center on International Cooperation (CIC), "
        "the Asia Foundation and the Institute for Peace and Security Studies,",
    )
    parsed = parse_summary(text)
    assert parsed.host == "Heart of Asia Society (HAS)"
    assert parsed.supporters == [
        "Konrad Adenauer Stiftung (KAS)",
        "Friedrich Ebert Stiftung (FES)",
    ]
    assert parsed.partners == [
        "Center on International Cooperation (CIC)",
        "Asia Foundation",
        "Institute for Peace and Security Studies",
    ]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("A (X) and B (Y)", ["A (X)", "B (Y)"]),
        ("KAS and FES", ["KAS", "FES"]),
        ("the Asia Foundation, the British Council", ["Asia Foundation", "British Council"]),
        ("the Center for Strategic and International Studies (CSIS)",
         ["Center for Strategic and International Studies (CSIS)"]),
        ("the Ministry of Foreign Affairs and Trade", ["Ministry of Foreign Affairs and Trade"]),
        ("the Friends of Dialogue (Peace, Trust and Conflict Unit) and partners",
         ["Friends of Dialogue (Peace, Trust and Conflict Unit) and partners"]),
        ("the Asia Foundation, a US charity", ["Asia Foundation"]),
        ("the Asia Foundation and the Aga Khan Foundation (AKF)",
         ["Asia Foundation", "Aga Khan Foundation (AKF)"]),
    ],
)  # fmt: skip
def test_supporter_names_split_only_between_organisations(
    written: str, expected: list[str]
) -> None:
    text = SHORT.replace("the Konrad Adenauer Stiftung (KAS)", written)
    assert parse_summary(text).supporters == expected


def test_organisers_written_before_the_host() -> None:
    text = SHORT.replace(
        "On 8 June 2020, the Heart of Asia Society (HAS), with support from the Konrad "
        "Adenauer Stiftung (KAS), hosted",
        "With support from the Konrad Adenauer Stiftung (KAS), the Heart of Asia Society (HAS) "
        "hosted on 8 June 2020",
    )
    parsed = parse_summary(text)
    assert parsed.host == "Heart of Asia Society (HAS)"
    assert parsed.supporters == ["Konrad Adenauer Stiftung (KAS)"]
    assert parsed.held_on == date(2020, 6, 8)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("Iran, China (online, as observers) and the UK.",
         ["Iran", "China (online, as observers)", "UK"]),
        ("Bosnia and Herzegovina, Trinidad and Tobago and Qatar.",
         ["Bosnia and Herzegovina", "Trinidad and Tobago", "Qatar"]),
        ("the European Union, Iran, and Japan.", ["European Union", "Iran", "Japan"]),
    ],
)  # fmt: skip
def test_participant_countries_list(written: str, expected: list[str]) -> None:
    text = SHORT.replace("Afghanistan, Iran and the United Kingdom.", written)
    assert parse_summary(text).participant_countries == expected


def test_abbreviations_do_not_end_sentences() -> None:
    text = SHORT.replace(
        "Iran and the United Kingdom.",
        "Iran and the U.S., e.g. retired envoys. Mr. Ahmad Khan, former Ambassador of "
        "Pakistan to the U.S., and H.E. Mrs. Sima Samar also attended the meeting.",
    )
    parsed = parse_summary(text)
    assert parsed.participant_countries == ["Afghanistan", "Iran", "U.S."]
    assert parsed.notable_attendees == [
        "Mr. Ahmad Khan, former Ambassador of Pakistan to the U.S.",
        "H.E. Mrs. Sima Samar",
    ]


def test_meeting_attended_by_a_person() -> None:
    text = SHORT.replace(
        "The main points were:",
        "The meeting was also attended by Dr. Sima Samar and Mr. Omar Zakhilwal.\n\n"
        "The main points were:",
    )
    assert parse_summary(text).notable_attendees == ["Dr. Sima Samar", "Mr. Omar Zakhilwal"]


def test_groups_joining_the_discussion_are_not_notable_attendees() -> None:
    text = SHORT.replace(
        "The main points were:",
        "Over 30 experts attended the meeting. All participants joined the open discussion.\n\n"
        "The main points were:",
    )
    assert parse_summary(text).notable_attendees == []


def test_only_a_closing_call_to_action_is_dropped_from_the_narrative() -> None:
    text = (
        SHORT.replace(
            "The main points were:",
            "A detailed report will follow in July.\n\nThe main points were:",
        )
        + "\nIf you wish to join our newsletter, please write to us.\n"
    )
    parsed = parse_summary(text)
    assert "A detailed report will follow in July." in parsed.narrative
    assert "join our newsletter" not in parsed.narrative
    assert any(w.startswith("Skipped the closing call to action") for w in parsed.warnings)


def test_without_series_line_the_first_short_line_is_the_title() -> None:
    text = SHORT.replace("HAS Track 2 Dialogue Series: ", "")
    parsed = parse_summary(text)
    assert parsed.title == "Regional Views on the Peace Process"
    assert parsed.series == ""
    assert any("Series: Title" in warning for warning in parsed.warnings)
    assert parsed.host == "Heart of Asia Society (HAS)"


def test_non_breaking_spaces_become_spaces_and_typography_is_kept() -> None:
    text = SHORT.replace("8 June 2020", "8\u00a0June\u00a02020").replace(
        "Regional countries back the talks.", "Regional countries “back” the talks –\u00a0mostly."
    )
    parsed = parse_summary(text)
    assert parsed.held_on == date(2020, 6, 8)
    assert parsed.points[0] == "Regional countries “back” the talks – mostly."
    assert "\u00a0" not in parsed.narrative


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("  \n\t\r\n \u00a0 ", "empty"),
        ("HAS Track 2\x00Dialogue Series", "control characters"),
        ("PK\x03\x04binary", "control characters"),
        ("x" * (MAX_CHARS + 1), "too long"),
    ],
    ids=["empty", "whitespace", "nul", "binary", "huge"],
)
def test_unreadable_text_is_refused_with_a_message(text: str, message: str) -> None:
    with pytest.raises(SummaryNotReadable, match=message):
        parse_summary(text)


def test_long_text_within_the_limit_is_read() -> None:
    sentence = "Delegates from Iran, China and Qatar (with aides, advisers) spoke, and listened. "
    text = SHORT + "\n" + sentence * ((MAX_CHARS - len(SHORT) - 1) // len(sentence))
    assert len(text) <= MAX_CHARS
    assert parse_summary(text).points == SHORT_POINTS


def test_lorem_ipsum_gives_warnings_not_an_error() -> None:
    text = "\n".join(
        [
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
            "Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.",
            "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.",
            "Duis aute irure dolor in reprehenderit in voluptate velit esse.",
            "Excepteur sint occaecat cupidatat non proident, sunt in culpa.",
        ]
    )
    parsed = parse_summary(text)
    for what in ("title", "date", "session number", "host", "summary points"):
        assert missing(parsed, what), what
    assert parsed.narrative.startswith("Lorem ipsum dolor sit amet")


def test_random_fragments_never_raise_anything_else() -> None:
    fragments = [
        "•", "- ", "1. ", "12) ", ":", " ", "\n", "\n\n", "(", ")", ",", ".", "the ", " and ",
        "On 31 June 2020, ", "2020-13-45", "June 8, 2020", "Series: X", "hosted ", "organised ",
        "with support from ", "in partnership with ", "participants from ", "Dr. ", "U.S. ",
        "also attended", "was present", "session No. 0", "the 0th session", "the first session",
        "If you wish to join our newsletter", "Heart of Asia", "’", "–", "\u00a0", "\r",
    ]  # fmt: skip
    rng = random.Random(20200608)
    for _ in range(300):
        text = "".join(rng.choice(fragments) for _ in range(rng.randint(1, 60)))
        if not text.strip(" \n\r\u00a0"):
            continue
        parsed = parse_summary(text)
        assert all("\n" not in point for point in parsed.points)
        assert parsed.number != 0
