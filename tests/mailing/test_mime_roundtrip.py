"""Property: whatever text goes into a message template and its slots, the filled copy
is 7-bit, its lines are within the limits, and Python's ``email`` parser reads back
exactly what went in: the text part as written, the HTML part with the slot values
escaped, the headers as given.

The only change the encoder makes on purpose is documented in ``mime._qp``: within each
piece (a stretch of template text, or one slot value), CRLF and a lone CR become a line
break like LF.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
from email.header import decode_header, make_header
from email.message import EmailMessage

from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from newsletter.mailing.mime import (
    MessageTemplate,
    encode_header,
    format_address,
    slot,
)

SLOT_NAMES = ("name", "url", "token", "ünï", "x1")

# Text that stresses quoted-printable and SMTP: line ends of every kind, dots that
# start a line, '=' and things that look like escapes, trailing spaces, astral
# characters, words longer than a line, and the slot marker's own syntax.
_tricky = st.sampled_from(
    [
        "\n", "\r", "\r\n", "\n\n", ".", "\n.", ".\n", "..", "=", "=3D", "=\n", "=20",
        " ", "\t", " \n", "\t\n", "😀", "𝄞", "\x00", "\x7f", "\u2028", "\x85", "é",
        "[[slot:", "]]", "[[slot:name]]", "[[slot:nope", "[[slot:]]", "<b>&amp;</b>", '"',
        "'", "-- ", "--=_nl_", "From ", "\ufeff",
    ]
)  # fmt: skip
_long_word = st.builds(
    lambda char, count: char * count,
    st.sampled_from(["x", "é", "😀", "=", ".", " ", "ab"]),
    st.integers(min_value=60, max_value=1200),
)
_fragment = st.one_of(st.text(max_size=30), _tricky, _long_word)
free_text = st.lists(_fragment, max_size=12).map("".join)


# The marker as this process writes it (it carries a per-process key: "[[slot:name]]"
# in free text is text, not a slot).
_MARKER_RE = re.compile(re.escape(slot("NAME")).replace("NAME", r"(\w+)"))


def _without_markers(text: str) -> bool:
    return _MARKER_RE.search(text) is None


# A template is free text (holding no complete marker of its own) with slot markers
# between; joining two stretches must not make a marker either.
template_text = (
    st.lists(st.one_of(free_text, st.sampled_from(SLOT_NAMES).map(slot)), max_size=8)
    .map("".join)
    .filter(
        lambda text: _without_markers(
            re.sub("|".join(re.escape(slot(name)) for name in SLOT_NAMES), "", text)
        )
    )
)
slot_values = st.fixed_dictionaries({name: free_text for name in SLOT_NAMES})
# Header text as people type it (no control characters: those are refused), up to the
# 200 characters names and subjects may have, with what looks like an encoded word.
_header_fragment = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
    st.sampled_from(["=?", "?=", "=?utf-8?q?Bob?=", "=?utf-8?b?QQ==?=", '"', "\\", "<a@b>"]),
)
# Whitespace as ``validation.clean_text`` leaves names and subjects: single spaces.
header_text = (
    st.lists(_header_fragment, max_size=6)
    .map(lambda parts: " ".join("".join(parts).split()))
    .filter(lambda text: len(text) <= 200)
)


def _line_ends(text: str) -> str:
    """The documented normalisation: CRLF and lone CR read as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _expected(template: str, values: dict[str, str], html: bool) -> str:
    """The template with each marker replaced by its value, each piece normalised on
    its own (as the encoder does), slot values HTML-escaped in the HTML part."""
    out = []
    position = 0
    for match in _MARKER_RE.finditer(template):
        out.append(_line_ends(template[position : match.start()]))
        value = values[match.group(1)]
        out.append(_line_ends(str(escape(value)) if html else value))
        position = match.end()
    out.append(_line_ends(template[position:]))
    return "".join(out)


def _parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, _class=EmailMessage, policy=email.policy.default)


def _body_lines(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[1].split(b"\r\n")


_NO_VALUES = dict.fromkeys(SLOT_NAMES, "")


def _shorter_encoding(template: str) -> str:
    """What the stdlib's encoders say is shorter for the part's own text (line ends as
    LF, slot markers as they stand): ASCII text always stays quoted-printable."""
    data = template.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    if data.isascii():
        return "quoted-printable"
    qp, b64 = binascii.b2a_qp(data, istext=True), base64.encodebytes(data)
    return "base64" if len(b64) < len(qp) else "quoted-printable"


@settings(max_examples=100, deadline=None)
@given(text=template_text, html=template_text, values=slot_values)
# A line that starts with a dot and fills the line: escaping the dot as "=2E" after
# the wrap made it 78 characters long.
@example(text="." + "a" * 75 + "\n", html="", values=_NO_VALUES)
@example(text="a" * 75 + ".." + "b" * 80, html="", values=_NO_VALUES)
@example(text=slot("name"), html=slot("name"), values={**_NO_VALUES, "name": "." + "é" * 40})
# A piece that ends mid-line with a full 76-character line: its soft break made 77.
@example(text=slot("name"), html="", values={**_NO_VALUES, "name": "0" + "x" * 75})
@example(text="x" * 75 + ".", html="x" * 73 + "é", values=_NO_VALUES)
# A space or tab before a line end, escaped by b2a_qp after it wrapped: 77 or 78.
@example(text="a" * 75 + " \n" + " " * 75 + "\n", html="b" * 74 + "\t\n", values=_NO_VALUES)
def test_any_text_survives_the_round_trip(text, html, values):
    template = MessageTemplate(text=text, html=html, headers={"Subject": "Round trip"})
    data = template.fill({"To": "reader@example.org"}, values)

    assert data.isascii()  # quoted-printable or base64: 7-bit clean for any relay
    assert b"\r\n." not in data  # no line starts with a dot: no SMTP dot-stuffing
    assert b"\n" not in data.replace(b"\r\n", b"")  # and every line ends in CRLF
    lines = _body_lines(data)
    assert max(len(line) for line in lines) <= 76  # RFC 2045 6.7 (and RFC 5322's 998)

    message = _parse(data)
    assert message.defects == []
    assert message.get_content_type() == "multipart/alternative"
    plain, markup = message.get_body(("plain",)), message.get_body(("html",))
    # Each part in the shorter of the two encodings (Arabic script: base64).
    assert plain["Content-Transfer-Encoding"] == _shorter_encoding(text)
    assert markup["Content-Transfer-Encoding"] == _shorter_encoding(html)
    assert plain.get_content().replace("\r\n", "\n") == _expected(text, values, html=False)
    assert markup.get_content().replace("\r\n", "\n") == _expected(html, values, html=True)
    assert message["Subject"] == "Round trip"
    assert message["To"] == "reader@example.org"


@settings(max_examples=100, deadline=None)
@given(subject=header_text, name=header_text, body=free_text.filter(_without_markers))
@example(subject="Read =?utf-8?q?this?= as written", name="=?utf-8?q?Bob?=", body="")
def test_headers_come_through_whatever_their_text(subject, name, body):
    template = MessageTemplate(
        text=body,
        html=slot("name"),
        headers={
            "From": format_address("Dialogue Digest", "digest@news.example.org"),
            "Subject": encode_header(subject),
        },
    )
    data = template.fill({"To": format_address(name, "reader@example.org")}, {"name": name})
    head = data.split(b"\r\n\r\n", 1)[0]
    assert data.isascii()
    assert max(len(line) for line in head.split(b"\r\n")) <= 998  # RFC 5322 2.1.1

    message = _parse(data)
    assert message["Subject"] == subject
    # Read the display name as RFC 2047 says (the space between adjacent encoded words is
    # not text); Python 3.11's address parser keeps it, mail clients do not.
    raw_to = re.search(rb"^To: (.*?)\r\n(?! )", head + b"\r\n", re.M | re.S)
    assert raw_to is not None
    value = raw_to.group(1).replace(b"\r\n", b"").decode()
    phrase = value.rsplit(" <", 1)[0] if value.endswith(">") else ""
    if phrase.startswith('"'):
        phrase = phrase[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    assert str(make_header(decode_header(phrase))) == name
    assert message["To"].addresses[0].addr_spec == "reader@example.org"
    assert message["From"] == "Dialogue Digest <digest@news.example.org>"
