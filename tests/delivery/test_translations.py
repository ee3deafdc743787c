"""Staff give sessions and digests their other languages: a pasted Dari summary fills a
session's translation, a digest's variant starts from it, the composer and the send
page say what is incomplete and who gets the fallback."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter.digests import services as digests
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.sessions.models import DialogueSession
from newsletter.sessions.translations import read_summary
from newsletter.subscriptions.models import Subscriber
from tests.conftest import form_values
from tests.digests.conftest import two_sessions  # noqa: F401 - the fixture, shared

DARI_SUMMARY = (
    Path(__file__).resolve().parents[1]
    / "sessions/fixtures/has-track2-session-2020-06-08.fa-AF.txt"
).read_text(encoding="utf-8")


def test_the_dari_summary_is_read_for_points_date_and_countries(app):
    with app.test_request_context():
        summary = read_summary(DARI_SUMMARY, "fa-AF")
    assert summary.held_on.isoformat() == "2020-06-08"  # from ۱۹ جوزا ۱۳۹۹, Solar Hijri
    assert summary.countries == [
        "Afghanistan", "China", "Russia", "Germany", "Kyrgyzstan", "India", "Norway",
        "Pakistan", "Qatar", "United Kingdom", "United States",
    ]  # fmt: skip
    assert len(summary.points) == 5
    assert summary.points[1].startswith("جزئیات نهایی مذاکرات با طالبان در دوحه")
    assert summary.title.startswith("توافق سیاسی در کابل")
    assert summary.warnings == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("به تاریخ ۸ جون ۲۰۲۰ برگزار شد", "2020-06-08"),  # Gregorian, Afghan month name
        ("د ۲۰۲۰ کال د جون ۸مه", None),  # no day-month-year order: not guessed
        ("په ۱۹ غبرګولی ۱۳۹۹ کې", "2020-06-08"),  # Pashto Solar Hijri month
        ("on 8 June 2020", "2020-06-08"),
        ("۳۱ حوت ۱۳۹۹", None),  # Hut has 29 or 30 days: refused, not shifted
    ],
)
def test_dates_in_either_calendar_and_either_digits(app, line, expected):
    with app.test_request_context():
        summary = read_summary(line + "\n  • نکته\n", "ps" if "غبرګولی" in line else "fa-AF")
    assert (summary.held_on.isoformat() if summary.held_on else None) == expected


@pytest.fixture
def sample(two_sessions):  # noqa: F811 - the fixture imported above
    return two_sessions


def test_pasting_a_dari_summary_fills_the_translation_and_the_variant_starts_from_it(
    app, client, staff_login, sample, add_subscribers
):
    staff_login()
    session_id = sample["first"]
    page = client.get(f"/staff/sessions/{session_id}/translations")
    assert page.status_code == 200
    values = form_values(page.get_data(as_text=True), having="paste")
    values.update(paste=DARI_SUMMARY, paste_language="fa-AF")
    read = client.post(f"/staff/sessions/{session_id}/translations", data=values)
    assert read.status_code == 302
    shown = client.get(read.location).get_data(as_text=True)
    assert "Read 5 translated points (دری)" in shown
    assert "It has 5 points and the session 15" in shown  # said, not hidden
    with app.app_context():
        session = db.session.get(DialogueSession, session_id)
        assert session.points[0].translations["fa-AF"].startswith("در افغانستان با وجود")
        assert session.translations["fa-AF"]["title"].startswith("توافق سیاسی در کابل")
        digest = digests.create_from_session(session)
        db.session.commit()
        digest_id = digest.id

    composer = client.get(f"/staff/digests/{digest_id}").get_data(as_text=True)
    assert "Languages (2 incomplete)" in composer
    languages = client.get(f"/staff/digests/{digest_id}/languages").get_data(as_text=True)
    assert "missing subject, item 6" in languages  # items 1-5 come from the translation
    assert "در افغانستان با وجود" in languages
    values = form_values(languages, having="fa-AF-subject")
    values["fa-AF-subject"] = "خلاصهٔ نشست دوم"
    with app.app_context():
        items = db.session.get(Digest, digest_id).items
        for number, item in enumerate(items, start=1):
            if number > 5:
                values[f"fa-AF-item-{item.id}"] = f"نکتهٔ {number}"
    saved = client.post(f"/staff/digests/{digest_id}/languages", data=values)
    assert saved.status_code == 302
    again = client.get(saved.location).get_data(as_text=True)
    assert "Variants saved." in again
    assert 'دری: <span class="tag status-sent">complete</span>' in again

    readers = add_subscribers(2, prefix="ps")
    with app.app_context():
        db.session.execute(
            sa.update(Subscriber).where(Subscriber.email_key.in_(readers)).values(language="ps")
        )
        db.session.commit()
    send_page = client.get(f"/staff/digests/{digest_id}/send").get_data(as_text=True)
    assert "پښتو: 2 people <strong" in send_page
    assert "will get the English version" in send_page


def test_a_summary_of_another_session_is_refused(app, client, staff_login, sample):
    staff_login()
    session_id = sample["second"]  # held on 14 September 2020
    page = client.get(f"/staff/sessions/{session_id}/translations")
    values = form_values(page.get_data(as_text=True), having="paste")
    values.update(paste=DARI_SUMMARY, paste_language="fa-AF")
    refused = client.post(f"/staff/sessions/{session_id}/translations", data=values)
    assert refused.status_code == 400
    assert "is it the translation of another session?" in refused.get_data(as_text=True)
    with app.app_context():
        session = db.session.get(DialogueSession, session_id)
        assert session.translations is None
        assert all(point.translations is None for point in session.points)
