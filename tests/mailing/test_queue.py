"""Transactional mail: queued in the transaction, sent after it, retried until taken."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from newsletter import mailing
from newsletter.extensions import db
from newsletter.mailing.models import OutgoingMail, OutgoingStatus
from newsletter.mailing.queue import deliver_outgoing
from newsletter.timeutil import utcnow
from tests.waiting import wait_until


def _queue_test_mail(app, to="ops@example.org") -> int:
    with app.app_context():
        queued = mailing.send_email("test", subject="Test message", to_address=to)
        db.session.commit()
        return queued


def _row(app, mail_id):
    with app.app_context():
        row = db.session.get(OutgoingMail, mail_id)
        if row is not None:
            db.session.expunge(row)
        return row


def test_sent_after_commit_and_removed(app, outbox):
    mail_id = _queue_test_mail(app)
    assert outbox.wait_for(1)[0].to == "ops@example.org"
    assert _row(app, mail_id) is None


def test_temporary_refusal_is_retried_later(app, outbox):
    outbox.reply_to_rcpt("ops@example.org", "451 4.3.0 try again later", "250 OK")
    mail_id = _queue_test_mail(app)
    row = _row(app, mail_id)
    assert row.status == OutgoingStatus.QUEUED
    assert row.attempts == 1
    assert "451 4.3.0 try again later" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(seconds=30)
    assert outbox.received == []

    with app.app_context():
        assert deliver_outgoing().sent == 0  # not due yet
        result = deliver_outgoing(now=utcnow() + timedelta(minutes=2))
    assert result.sent == 1
    assert outbox.wait_for(1)[0].to == "ops@example.org"
    assert _row(app, mail_id) is None


def test_permanent_refusal_fails_the_message(app, outbox):
    outbox.reply_to_rcpt("ops@example.org", "550 5.1.1 no such user")
    mail_id = _queue_test_mail(app)
    row = _row(app, mail_id)
    assert row.status == OutgoingStatus.FAILED
    assert "550 5.1.1" in row.last_error
    with app.app_context():
        assert deliver_outgoing(now=utcnow() + timedelta(days=1)).sent == 0


def test_configuration_fault_defers_everything_and_stops(app, outbox):
    outbox.require_auth()
    first = _queue_test_mail(app, "a@example.org")
    second = _queue_test_mail(app, "b@example.org")
    assert _row(app, first).status == OutgoingStatus.QUEUED
    assert "530" in _row(app, first).last_error
    outbox.require_auth(False)
    with app.app_context():
        result = deliver_outgoing(now=utcnow() + timedelta(hours=1))
    assert result.sent == 2
    assert sorted(m.to for m in outbox.wait_for(2)) == ["a@example.org", "b@example.org"]
    assert _row(app, second) is None


def test_a_claimed_message_is_not_sent_twice(app, outbox):
    outbox.reply_to_rcpt("ops@example.org", "451 4.3.0 later", "250 OK")
    mail_id = _queue_test_mail(app)
    later = utcnow() + timedelta(minutes=2)
    with app.app_context():
        # Claim it as a concurrent flusher would, then flush again at the same moment.
        db.session.execute(
            sa.update(OutgoingMail)
            .where(OutgoingMail.id == mail_id)
            .values(next_attempt_at=later + timedelta(minutes=5))
        )
        db.session.commit()
        assert deliver_outgoing(now=later).sent == 0
    assert outbox.received == []


@pytest.mark.app_config(MAIL_DISPATCH="auto")
def test_mail_caused_by_a_request_leaves_in_the_background(app, client, outbox, make_list):
    make_list("digest", "Digest", default=True)
    from tests.subscriptions.helpers import subscribe

    with outbox.holding():
        response = subscribe(client, "bg@example.org")
        assert response.status_code == 302
        # The response came back while the message still waits for the server's answer.
        wait_until(outbox.waiting_in_data, message="the mail thread never reached the server")
        assert outbox.received == []
    assert outbox.wait_for(1)[0].to == "bg@example.org"


def test_flush_command(app, runner, outbox):
    outbox.reply_to_rcpt("ops@example.org", "451 4.3.0 later", "250 OK")
    _queue_test_mail(app)
    result = runner.invoke(args=["mail", "flush"])
    assert result.exit_code == 0
    assert result.output.strip() == "Sent 0, deferred 0, failed 0."
