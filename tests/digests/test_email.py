"""The digest email: what readers get, in both parts, and what the archive keeps."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import feedparser
import pytest

from newsletter.digests import archive, render
from newsletter.digests import services as digests
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.mailing import headers
from newsletter.sessions.models import DialogueSession
from newsletter.timeutil import utcnow
from tests.conftest import form_values


@pytest.fixture
def digest_id(app, two_sessions) -> int:
    with app.app_context():
        first = db.session.get(DialogueSession, two_sessions["first"])
        digest = digests.create_from_session(first)
        digests.add_points(digest, two_sessions["second_points"][:2])
        digest.intro = (
            "Dear readers,\n\nThe **main points** of two sessions. <script>alert(1)</script>"
        )
        digest.outro = "Ask us for the [detailed report](https://news.example.org/reports)."
        digest.preheader = "Kabul, then regional trade"
        db.session.commit()
        return digest.id


def _preview(app, digest_id: int) -> render.Preview:
    with app.test_request_context():
        return render.preview(db.session.get(Digest, digest_id))


def test_html_part_is_accessible_inlined_and_small(app, digest_id):
    html = _preview(app, digest_id).html
    assert len(html.encode()) < render.MAX_HTML_BYTES
    assert '<html lang="en"' in html
    assert 'role="presentation"' in html
    assert 'style="' in html  # the CSS was inlined …
    assert "prefers-color-scheme: dark" in html  # … and the dark-mode rules kept
    assert "!important" in html
    assert "<img" not in html  # nothing that needs images on
    assert "Kabul, then regional trade" in html  # the preheader
    assert "HAS Track 2 Dialogue Series · Session 2 · 8 June 2020" in html
    assert "HAS Track 2 Dialogue Series · Session 3 · 14 September 2020" in html
    assert "Trade corridors need &lt;security&gt; guarantees." in html
    assert "<strong>main points</strong>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="https://news.example.org/reports"' in html
    assert html.count("<li") == 17


def test_text_part_reads_on_its_own(app, digest_id):
    text = _preview(app, digest_id).text
    assert "HAS TRACK 2 DIALOGUE SERIES · SESSION 2 · 8 JUNE 2020" in text
    assert "  * In Afghanistan there is broad consensus on peace despite different views" in text
    assert "  * Trade corridors need <security> guarantees." in text
    assert "The main points of two sessions." in text
    assert "detailed report (https://news.example.org/reports)" in text
    assert "Unsubscribe: https://news.example.org/subscribe" in text
    assert max(len(line) for line in text.splitlines()) <= 110  # only URLs run longer than 76
    assert all(len(line) <= 76 for line in text.splitlines() if "http" not in line)


def test_same_session_twice_gets_its_heading_twice(app, two_sessions):
    with app.app_context():
        digest = digests.create_digest("Mixed")
        first, second = two_sessions["first_points"], two_sessions["second_points"]
        digests.add_points(digest, [first[0], second[0], first[1]])
        groups = render.session_groups(digest)
        assert [len(group.points) for group in groups] == [1, 1, 1]
        assert groups[0].heading == groups[2].heading
        assert groups[0].url.startswith("https://news.example.org/sessions/")
        assert groups[1].url is None  # the second session is not published


def test_preview_page_and_test_send(app, client, staff_login, digest_id, outbox):
    staff_login("editor@example.org")
    page = client.get(f"/staff/digests/{digest_id}/preview")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "HAS TRACK 2 DIALOGUE SERIES · SESSION 2 · 8 JUNE 2020" in body
    frame = client.get(f"/staff/digests/{digest_id}/preview.html")
    assert frame.headers["Content-Security-Policy"].startswith("sandbox")
    assert "Trade corridors need &lt;security&gt; guarantees." in frame.get_data(as_text=True)

    sent = client.post(f"/staff/digests/{digest_id}/test", data=form_values(body))
    assert sent.status_code == 302
    (received,) = outbox.wait_for(1)
    assert received.to == "editor@example.org"
    message = received.message
    assert (
        message["Subject"]
        == "[Test] Political Agreement in Kabul Paves the Way for Intra-Afghan Negotiations"
    )
    text = message.get_body(("plain",)).get_content()
    assert "SESSION 3 · 14 SEPTEMBER 2020" in text
    assert "Trade corridors need <security> guarantees." in message.get_body(
        ("html",)
    ).get_content().replace("&lt;", "<").replace("&gt;", ">")


@pytest.mark.skipif(shutil.which("spamassassin") is None, reason="spamassassin is not installed")
def test_spamassassin_finds_the_digest_clean(app, digest_id):
    with app.test_request_context():
        digest = db.session.get(Digest, digest_id)
        data = render.build_message(digest).fill(
            headers.recipient_headers("reader@example.org", "Ada Reader"),
            render.sample_slots(),
        )
    with tempfile.TemporaryDirectory() as home:
        result = subprocess.run(
            [
                shutil.which("spamassassin") or "spamassassin",
                "-L",
                "-t",
                "-x",
                "--cf=use_bayes 0",
                "--cf=bayes_auto_learn 0",
            ],
            input=data,
            capture_output=True,
            env={"HOME": home, "PATH": "/usr/bin:/bin"},
            timeout=120,
            check=False,
        )
    status = re.search(rb"X-Spam-Status: (\w+), score=(-?[\d.]+)", result.stdout)
    assert status, result.stderr.decode()[-2000:]
    assert status.group(1) == b"No"
    assert float(status.group(2)) < 2.0, result.stdout.decode()[-3000:]


def _send_and_freeze(app, digest_id: int, days_ago: int = 0) -> str:
    from datetime import timedelta

    with app.test_request_context():
        digest = db.session.get(Digest, digest_id)
        digest.in_archive = archive.publishes_by_default(digest)  # as start_send decides
        archive.freeze(digest, utcnow() - timedelta(days=days_ago))
        digest.status = DigestStatus.SENT
        digest.sent_at = utcnow() - timedelta(days=days_ago)
        db.session.commit()
        return digest.slug


def test_archive_keeps_what_was_sent(app, client, digest_id, two_sessions):
    assert "Nothing has been sent yet." in client.get("/archive").get_data(as_text=True)
    slug = _send_and_freeze(app, digest_id)
    listing = client.get("/archive").get_data(as_text=True)
    assert f'href="/archive/{slug}"' in listing
    web = client.get(f"/archive/{slug}")
    assert web.status_code == 200
    assert "style-src 'unsafe-inline'" in web.headers["Content-Security-Policy"]
    assert "script-src" not in web.headers["Content-Security-Policy"]
    html = web.get_data(as_text=True)
    assert "In Afghanistan there is broad consensus" in html
    assert "/unsubscribe/" not in html  # no one's personal link

    # Later edits to the session do not change the archived copy.
    with app.app_context():
        session = db.session.get(DialogueSession, two_sessions["first"])
        session.points[0].text = "Rewritten afterwards."
        db.session.commit()
    assert "Rewritten afterwards." not in client.get(f"/archive/{slug}").get_data(as_text=True)
    assert client.get("/archive/no-such-digest").status_code == 404


def test_archive_pages_and_feed(app, client, two_sessions):
    ids = []
    with app.app_context():
        for n in range(23):
            digest = digests.create_digest(f"Digest number {n}")
            digests.add_points(digest, two_sessions["second_points"][:1])
            ids.append(digest.id)
        db.session.commit()
    for age, digest_id in enumerate(reversed(ids)):
        _send_and_freeze(app, digest_id, days_ago=age)

    first_page = client.get("/archive").get_data(as_text=True)
    assert first_page.index("Digest number 22") < first_page.index("Digest number 21")
    assert "Digest number 2<" not in first_page
    assert "Older" in first_page
    second_page = client.get("/archive?page=2").get_data(as_text=True)
    assert "Digest number 2<" in second_page
    assert "Digest number 0<" in second_page
    assert client.get("/archive?page=99").status_code == 200
    assert client.get("/archive?page=x").status_code == 200

    feed_response = client.get("/archive/feed.xml")
    assert feed_response.mimetype == "application/atom+xml"
    feed = feedparser.parse(feed_response.data)
    assert feed.bozo == 0, feed.bozo_exception
    assert feed.feed.title == "Dialogue Digest"
    assert [entry.title for entry in feed.entries[:2]] == ["Digest number 22", "Digest number 21"]
    assert feed.entries[0].link.startswith("https://news.example.org/archive/")
    assert "Trade corridors need <security> guarantees." in feed.entries[0].content[0].value
