"""What staff write is shown as written: ``[[slot:…]]`` is never a template slot. And one
digest that cannot start never stops the clock for the others."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from newsletter.delivery import execution
from newsletter.digests.models import Digest, DigestItem, DigestStatus
from newsletter.extensions import db
from newsletter.mailing.models import OutgoingMail
from newsletter.sessions.models import SummaryPoint
from newsletter.timeutil import utcnow
from tests.subscriptions.helpers import html_of, text_of


def _first_point_says(app, digest_id: int, text: str) -> None:
    with app.app_context():
        item = db.session.scalar(
            sa.select(DigestItem).where(DigestItem.digest_id == digest_id).order_by(DigestItem.id)
        )
        db.session.get(SummaryPoint, item.point_id).text = text
        digest = db.session.get(Digest, digest_id)
        digest.intro = "Reply with [[slot:preferences_url]] in the subject."
        db.session.commit()


def test_slot_syntax_in_a_point_is_shown_literally_in_the_preview(
    app, client, staff_login, digest_id
):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _first_point_says(app, digest_id, "Write [[slot:nonexistent]] here.")
    staff_login()
    page = client.get(f"/staff/digests/{digest_id}/preview")
    assert page.status_code == 200
    assert "Write [[slot:nonexistent]] here." in page.get_data(as_text=True)
    frame = client.get(f"/staff/digests/{digest_id}/preview.html")
    assert "Write [[slot:nonexistent]] here." in frame.get_data(as_text=True)


def test_slot_syntax_never_becomes_a_readers_personal_link(
    app, add_subscribers, digest_id, start, outbox
):
    add_subscribers(1)
    _first_point_says(app, digest_id, "Our link: [[slot:unsubscribe_url]].")
    start(digest_id)
    execution.work_on(app, digest_id, concurrency=1)
    received = outbox.wait_for(1)[0]
    for part in (text_of(received), html_of(received)):
        assert "Our link: [[slot:unsubscribe_url]]." in part
        assert "Reply with [[slot:preferences_url]] in the subject." in part


def test_a_digest_that_cannot_start_does_not_stop_the_others(
    app, client, staff_login, add_subscribers, digest_id, outbox
):
    add_subscribers(2)
    with app.app_context():
        good = db.session.get(Digest, digest_id)
        bad = Digest(subject="Broken", status=DigestStatus.SCHEDULED, lists=list(good.lists))
        bad.items = [DigestItem(point_id=item.point_id, position=1) for item in good.items[:1]]
        db.session.add(bad)
        db.session.flush()
        bad_id = bad.id
        db.session.commit()
        # A subject that came in before subjects were checked: it cannot be a header.
        due = utcnow() - timedelta(seconds=1)
        db.session.execute(
            sa.update(Digest)
            .where(Digest.id == bad_id)
            .values(subject="Broken\r\nBcc: everyone@example.org", scheduled_at=due)
        )
        db.session.execute(
            sa.update(Digest)
            .where(Digest.id == digest_id)
            .values(status=DigestStatus.SCHEDULED, scheduled_at=due)
        )
        queued = OutgoingMail(
            envelope_from="digest@news.example.org",
            recipient="someone@example.org",
            message=b"Subject: queued\r\n\r\nstill goes\r\n",
            next_attempt_at=due,
        )
        db.session.add(queued)
        db.session.commit()

    report = execution.tick(app)
    assert report.started == [digest_id]
    assert report.mail_sent == 1  # queued mail went out too
    with app.app_context():
        broken = db.session.get(Digest, bad_id)
        assert broken.status == DigestStatus.DRAFT
        assert "could not start" in broken.pause_reason.lower()
    staff_login()
    page = client.get(f"/staff/digests/{bad_id}").get_data(as_text=True)
    assert "Could not start at the scheduled time" in page
