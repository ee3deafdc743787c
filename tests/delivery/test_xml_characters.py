"""Characters XML cannot hold (control characters, U+FFFE, U+FFFF) are refused in what
staff write, and a digest that holds one from before cannot break the Atom feed."""

from __future__ import annotations

import feedparser
import pytest
import sqlalchemy as sa

from newsletter.delivery import execution
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.sessions.models import DialogueSession, SummaryPoint
from tests.conftest import form_values

BAD = ["\x01", "\x08", "\ufffe", "\uffff", "\x7f"]


@pytest.fixture
def session_id(app, digest_id) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(DialogueSession.id))


@pytest.mark.parametrize("char", BAD)
def test_a_point_with_such_a_character_is_refused(app, client, staff_login, session_id, char):
    staff_login()
    page = client.get(f"/staff/sessions/{session_id}").get_data(as_text=True)
    values = form_values(page, having="text") | {"text": f"A point{char} with it."}
    answer = client.post(f"/staff/sessions/{session_id}/points", data=values, follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert "cannot be stored" in page or "contains a control character" in page
    with app.app_context():
        texts = db.session.scalars(sa.select(SummaryPoint.text)).all()
    assert not any(char in text for text in texts)


@pytest.mark.parametrize("field", ["narrative", "title", "host"])
def test_session_fields_refuse_such_characters(app, client, staff_login, session_id, field):
    staff_login()
    page = client.get(f"/staff/sessions/{session_id}").get_data(as_text=True)
    values = form_values(page, having="narrative") | {field: "Words\ufffe here"}
    answer = client.post(f"/staff/sessions/{session_id}", data=values)
    assert answer.status_code == 400
    assert "cannot be stored" in answer.get_data(as_text=True) or "control character" in (
        answer.get_data(as_text=True)
    )


@pytest.mark.parametrize("field", ["subject", "preheader", "intro", "outro"])
def test_digest_texts_refuse_such_characters(app, client, staff_login, digest_id, field):
    staff_login()
    page = client.get(f"/staff/digests/{digest_id}").get_data(as_text=True)
    values = form_values(page, having="subject") | {field: "Some\x01 text\uffff"}
    answer = client.post(f"/staff/digests/{digest_id}", data=values)
    assert answer.status_code == 400
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        assert "\x01" not in getattr(digest, field)


def test_a_sent_digest_holding_one_from_before_does_not_break_the_feed(
    app, client, add_subscribers, digest_id, start, outbox
):
    add_subscribers(1)
    with app.app_context():  # written before these characters were refused
        db.session.execute(
            sa.update(Digest).values(subject="Digest\ufffe with odd", preheader="Pre\x01header")
        )
        db.session.execute(sa.update(SummaryPoint).values(text="A point\x02 with\uffff it."))
        db.session.commit()
    start(digest_id)
    execution.work_on(app, digest_id, concurrency=1)
    for _ in range(2):  # not just once: every request
        response = client.get("/archive/feed.xml")
        assert response.status_code == 200
        feed = feedparser.parse(response.data)
        assert feed.bozo == 0, feed.bozo_exception
        assert feed.entries[0].title == "Digest with odd"
