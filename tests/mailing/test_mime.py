"""Messages built once and filled per copy decode to exactly what was rendered."""

from __future__ import annotations

import email
import email.policy
import re
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from markupsafe import escape

from newsletter.mailing.mime import (
    HeaderValueError,
    MessageTemplate,
    encode_header,
    format_address,
    slot,
)
from newsletter.mailing.transport import dot_stuff


def _parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, _class=EmailMessage, policy=email.policy.default)


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return text.get_content(), html.get_content()


TEXT = (
    "Dear " + slot("name") + ",\n"
    ".a line that starts with a dot\n"
    "trailing spaces   \n"
    "“Curly” quotes, é, and a long line " + "x" * 300 + "\n"
    "Leave: " + slot("url") + "\n"
)
HTML = (
    "<p>Dear " + slot("name") + ",</p>"
    '<p><a href="' + slot("url") + '">unsubscribe</a> = sign, “é”</p>' + "<p>" + "y" * 500 + "</p>"
)


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("Ada", "https://news.example.org/unsubscribe/abc.def-ghi_j"),
        ("Zoë <b>&amp;</b> “Q”", "https://x.example/" + "t" * 400),
        ("", "https://x.example/?a=1&b=2"),
        ("ends with space ", "=3D not an escape"),
    ],
)
def test_filled_copies_decode_to_the_rendered_text(name, url):
    template = MessageTemplate(text=TEXT, html=HTML, headers={"Subject": "Hi"})
    data = template.fill({"To": "a@example.org"}, {"name": name, "url": url})
    assert all(byte < 128 for byte in data)
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    text, html = _parts(_parse(data))
    expected_text = TEXT.replace(slot("name"), name).replace(slot("url"), url)
    assert text.replace("\r\n", "\n") == expected_text
    escaped_name = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped_url = url.replace("&", "&amp;")
    assert html == HTML.replace(slot("name"), escaped_name).replace(slot("url"), escaped_url)


def test_headers_come_first_and_parse():
    template = MessageTemplate(
        text="t",
        html="<p>h</p>",
        headers={
            "From": format_address("Zoë Society", "news@example.org"),
            "Subject": encode_header("Ümlaut subject " * 8),
        },
    )
    message = _parse(template.fill({"To": format_address("Ann", "ann@example.org")}, {}))
    assert message["From"] == "Zoë Society <news@example.org>"
    assert message["Subject"] == "Ümlaut subject " * 8
    assert message["To"] == "Ann <ann@example.org>"
    assert message.get_content_type() == "multipart/alternative"


def test_missing_slot_value_is_an_error():
    template = MessageTemplate(text=slot("a"), html=slot("b"), headers={})
    with pytest.raises(KeyError, match="a, b"):
        template.fill({}, {})


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode_header("Subject\r\nBcc: victim@example.org"),
        lambda: encode_header("Subject\nBcc: victim@example.org"),
        lambda: format_address("Eve\r\nBcc: x@example.org", "a@example.org"),
        lambda: format_address("Eve", "a@example.org\r\nBcc: x@example.org"),
        lambda: format_address("Eve", "zoë@example.org"),
        lambda: MessageTemplate(text="", html="", headers={"X-Note": "a\r\nBcc: x"}),
        lambda: MessageTemplate(text="", html="", headers={"X-Note": "ünencoded"}),
    ],
)
def test_header_injection_is_refused(call):
    with pytest.raises(HeaderValueError):
        call()


def test_dot_stuffing():
    assert dot_stuff(b".a\r\nb\r\n.c\r\n..d") == b"..a\r\nb\r\n..c\r\n...d\r\n"


def test_filled_messages_need_no_dot_stuffing():
    template = MessageTemplate(text=".first\n" + TEXT, html="." + HTML, headers={"Subject": "x"})
    data = template.fill({"To": "a@example.org"}, {"name": ".dotty", "url": ".x"})
    assert not data.startswith(b".")
    assert b"\r\n." not in data
    assert dot_stuff(data) == data
    text, html = _parts(_parse(data))
    assert text.startswith(".first")
    assert html.startswith(".")
    assert "Dear .dotty," in text


@pytest.mark.parametrize(
    ("code", "text", "stage", "scope", "temporary"),
    [
        (
            550,
            "5.1.1 <a@example.org>: Recipient address rejected: User unknown in relay "
            "recipient table",
            "rcpt",
            "recipient",
            False,
        ),
        (554, "5.7.1 <a@example.org>: Relay access denied", "rcpt", "configuration", False),
        (451, "4.7.1 greylisted, try again", "rcpt", "recipient", True),
        (
            550,
            "5.7.26 Unauthenticated email from example.org is not accepted",
            "data",
            "configuration",
            False,
        ),
        (421, "4.7.28 Our system has detected an unusual rate", "data", "configuration", True),
        (421, "4.4.2 closing connection", "data", "connection", True),
        (535, "5.7.8 Authentication credentials invalid", "auth", "configuration", False),
        (552, "5.2.2 mailbox full", "data", "message", False),
    ],
)
def test_refusals_are_blamed_on_the_right_party(code, text, stage, scope, temporary):
    from newsletter.mailing.transport import classify

    error = classify(code, text, stage)
    assert (error.scope, error.temporary) == (scope, temporary)


@pytest.mark.parametrize("width", [70, 74, 75, 76, 77, 150])
def test_quoted_printable_lines_stay_short_after_a_dot_is_escaped(width):
    """A line that starts with a dot is written ``=2E…``: two characters longer, cut again
    so that no encoded line passes 76."""
    text = "\n".join(["." + "d" * width, ".é" + "x" * width, "." * width, "plain"]) + "\n"
    template = MessageTemplate(text=text, html="<p>" + text + "</p>", headers={"Subject": "x"})
    data = template.fill({"To": "a@example.org"}, {})
    body = data.split(b"\r\n\r\n", 1)[1]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76
    assert b"\r\n." not in data
    decoded, _ = _parts(_parse(data))
    assert decoded.replace("\r\n", "\n") == text


def test_long_names_and_subjects_fold_into_short_encoded_words():
    name = "😀" * 200
    subject = "Ümlaut and more " * 20
    template = MessageTemplate(
        text="t", html="<p>h</p>", headers={"Subject": encode_header(subject)}
    )
    data = template.fill({"To": format_address(name, "a@example.org")}, {})
    head = data.split(b"\r\n\r\n", 1)[0]
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    words = re.findall(rb"=\?utf-8\?[bq]\?[^?]*\?=", head)
    assert max(len(word) for word in words) <= 75
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    assert str(make_header(decode_header(message["To"]))) == f"{name} <a@example.org>"
    assert str(make_header(decode_header(message["Subject"]))) == subject
    assert format_address('Ann "the" Reader', "a@example.org") == (
        '"Ann \\"the\\" Reader" <a@example.org>'
    )
    assert format_address("Ann Reader", "a@example.org") == "Ann Reader <a@example.org>"


DARI_TEXT = (
    slot("greeting") + "\n"
    + "خلاصهٔ نشست‌های گفت‌وگوی کارشناسی ما، چند بار در سال. " * 40 + "\n"
    + ".خطی که با نقطه آغاز می‌شود\n"
    + "لغو اشتراک: " + slot("url") + "\n"
)  # fmt: skip
DARI_HTML = "<p>" + "نکات اصلی نشست " * 300 + '</p><p><a href="' + slot("url") + '">لغو</a></p>'


def _part_encodings(data: bytes) -> dict[str, str]:
    message = _parse(data)
    return {
        part.get_content_type(): str(part["Content-Transfer-Encoding"])
        for part in message.iter_parts()
    }


@pytest.mark.parametrize(
    ("greeting", "url"),
    [
        ("مریم گرامی،", "https://news.example.org/unsubscribe/abc.def"),
        ("Dear <Ann> & co,", "https://x.example/?a=1&b=2" + "t" * 300),
        ("", ""),
    ],
)
def test_arabic_script_parts_go_in_base64_and_decode_exactly(greeting, url):
    """Quoted-printable writes each byte of Arabic script as ``=XX`` (three times the
    size); base64 costs four thirds, so such a part goes in base64, 7-bit, in lines of
    76, with no line starting with a dot, and decodes to what was rendered."""
    template = MessageTemplate(text=DARI_TEXT, html=DARI_HTML, headers={"Subject": "x"})
    data = template.fill({"To": "a@example.org"}, {"greeting": greeting, "url": url})
    assert _part_encodings(data) == {"text/plain": "base64", "text/html": "base64"}
    assert all(byte < 128 for byte in data)
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert b"\r\n." not in data
    text, html = _parts(_parse(data))
    assert text.replace("\r\n", "\n") == DARI_TEXT.replace(slot("greeting"), greeting).replace(
        slot("url"), url
    )
    escaped = str(escape(url))
    assert html == DARI_HTML.replace(slot("url"), escaped)
    # Half the size quoted-printable would have been.
    english = MessageTemplate(text=TEXT, html=HTML, headers={})
    assert _part_encodings(english.fill({}, {"name": "A", "url": "u"})) == {
        "text/plain": "quoted-printable",
        "text/html": "quoted-printable",
    }
    qp_size = len(encoding_qp(DARI_TEXT)) + len(encoding_qp(DARI_HTML))
    assert len(data) < qp_size * 0.6


def encoding_qp(text: str) -> bytes:
    from newsletter.mailing.mime import _qp

    return _qp(text)
