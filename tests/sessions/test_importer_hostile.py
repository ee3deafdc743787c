"""Pastes built to make the importer's patterns backtrack: each reads in linear time,
through the parser and through the staff form, at the largest size the form allows."""

from __future__ import annotations

import time

import pytest
from werkzeug.test import encode_multipart

from newsletter.sessions.importer import MAX_CHARS, parse_summary
from tests.conftest import form_values
from tests.cpu_time import least_cpu_seconds


def _filled(head: str, unit: str, tail: str = "") -> str:
    """``head``, ``unit`` repeated, ``tail``: a paste of exactly MAX_CHARS characters or
    just under."""
    count = (MAX_CHARS - len(head) - len(tail)) // len(unit)
    return head + unit * count + tail


HEAD = "Series: Title\n\nThe participants were here"
HOSTILE = {
    # The review's case: a run of a Unicode space the space normalisation missed.
    "ogham space": _filled(HEAD, "\u1680", "x."),
    "mixed odd spaces": _filled(HEAD, "\u2003\u00a0\u3000\u205f\u180e\u200b", "x."),
    "spaces": _filled(HEAD, " ", "x."),
    "tabs": _filled(HEAD, "\t", "attended."),
    "attended by, repeated": _filled("S: T\n\nIt ", "was attended by ", "x"),
    "present, repeated": _filled("S: T\n\nThe X", ", also ", "present"),
    "separators": _filled("S: T\n\nThe X", " and ,", " hosted."),
    "persons": _filled("S: T\n\n", " and  H.E. ", " attended."),
    "support markers": _filled("S: T\n\nThe ", "with the a support ", "hosted."),
    "ordinals": _filled("S: T\n\n", "second Aa ", "x."),
    "colons": _filled("", "a \u1680", ": x"),
    "lines of bullets": _filled("", "-\u1680\u1680a\n", ""),
    "abbreviations": _filled("S: T\n\n", "Dr.", "x."),
    "one long line": _filled("S: T\n\n", "a\u2009b ", "x."),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_paste_of_the_largest_size_parses_in_under_a_second(name):
    text = HOSTILE[name]
    assert MAX_CHARS - 20 <= len(text) <= MAX_CHARS
    # CPU time of this thread: neither a busy machine nor the suite's background threads
    # (senders, SMTP servers) count. A backtracking pattern takes minutes here, not 0.2 s.
    assert least_cpu_seconds(lambda: parse_summary(text)) < 1.0, name


def test_every_unicode_space_reads_as_a_plain_space():
    spaces = "\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    text = f"Series:{spaces}Title\n\n•{spaces}One\u3000point\u202fhere.\u200b\n"
    parsed = parse_summary(text)
    assert parsed.series == "Series"
    assert parsed.title == "Title"
    assert parsed.points == ["One point here."]


@pytest.mark.parametrize("name", ["ogham space", "attended by, repeated", "persons"])
def test_a_hostile_paste_through_the_staff_form(client, staff_login, name):
    staff_login()
    page = client.get("/staff/sessions/import").get_data(as_text=True)
    # Sent as the browser sends this form: multipart, whose text is not percent-encoded
    # (600,000 %-escapes of a non-ASCII paste cost a second to decode).
    assert 'enctype="multipart/form-data"' in page
    values = form_values(page)
    values["text"] = HOSTILE[name]
    boundary, body = encode_multipart(values)
    responses = []

    def post() -> None:
        responses.append(
            client.post(
                "/staff/sessions/import",
                data=body,
                content_type=f'multipart/form-data; boundary="{boundary}"',
            )
        )

    elapsed = least_cpu_seconds(post, clock=time.process_time, tries=1)
    response = responses[0]
    assert response.status_code == 200
    assert "Check what we found" in response.get_data(as_text=True)
    assert elapsed < 1.0
