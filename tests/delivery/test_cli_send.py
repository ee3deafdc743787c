"""Sending from the command line."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from newsletter.delivery.models import Delivery
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.timeutil import utcnow


def test_digest_send_status_and_refusals(app, runner, add_subscribers, digest_id, outbox):
    readers = add_subscribers(15)
    result = runner.invoke(args=["digest", "send", str(digest_id)])
    assert result.exit_code == 0, result.output
    assert (
        "Sending “Political Agreement in Kabul Paves the Way for Intra-Afghan Negotiations” "
        "to 15 subscribers." in result.output
    )
    assert (
        "[########################] 100%  sent 15 · failed 0 · retrying 0 · left 0" in result.output
    )
    assert "Done: 15 sent, 0 failed, 0 skipped." in result.output
    assert sorted(m.to for m in outbox.received) == sorted(readers)

    status = runner.invoke(args=["digest", "status", str(digest_id)])
    assert ": sent" in status.output
    assert "sent 15" in status.output
    again = runner.invoke(args=["digest", "send", str(digest_id)])
    assert again.exit_code == 1
    assert "This digest is sent; it cannot be sent again." in again.output
    missing = runner.invoke(args=["digest", "send", "999"])
    assert "No digest '999'" in missing.output
    assert len(outbox.received) == 15


def test_pause_resume_cancel_commands(app, runner, add_subscribers, digest_id, outbox):
    add_subscribers(4)
    with app.app_context():
        from newsletter.delivery import sends

        sends.start_send(db.session.get(Digest, digest_id))
        db.session.commit()
    assert "Paused." in runner.invoke(args=["digest", "pause", str(digest_id)]).output
    refused = runner.invoke(args=["digest", "send", str(digest_id)])
    assert refused.exit_code == 1
    assert "The send is paused (paused from the command line)" in refused.output
    resumed = runner.invoke(args=["digest", "resume", str(digest_id)])
    assert "Done: 4 sent" in resumed.output
    assert len(outbox.received) == 4
    cancel = runner.invoke(args=["digest", "cancel", str(digest_id)])
    assert cancel.exit_code == 1
    assert "it cannot be cancelled" in cancel.output


def test_retries_are_reported_and_sent_by_send_run(app, runner, add_subscribers, digest_id, outbox):
    (slow,) = add_subscribers(1)
    outbox.reply_to_rcpt(slow, "451 4.7.1 greylisted", "250 OK")
    result = runner.invoke(args=["digest", "send", str(digest_id)])
    assert "1 deliveries wait for a retry" in result.output
    assert "'flask --app newsletter send run'" in result.output

    quiet = runner.invoke(args=["send", "run"])
    assert "resumed 0 sends" in quiet.output  # not due yet
    with app.app_context():
        db.session.execute(
            sa.update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    ran = runner.invoke(args=["send", "run"])
    assert "resumed 1 send," in ran.output
    assert [m.to for m in outbox.received] == [slow]
    with app.app_context():
        assert db.session.get(Digest, digest_id).status == DigestStatus.SENT


def test_schedule_command(app, runner, add_subscribers, digest_id, outbox):
    add_subscribers(2)
    bad = runner.invoke(args=["digest", "schedule", str(digest_id), "tomorrow"])
    assert bad.exit_code == 2
    assert "is not a date and time" in bad.output
    past = runner.invoke(args=["digest", "schedule", str(digest_id), "2001-01-01T00:00"])
    assert "Choose a time in the future" in past.output
    later = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    ok = runner.invoke(args=["digest", "schedule", str(digest_id), later])
    assert ok.exit_code == 0
    assert "Scheduled for" in ok.output
    assert "goes out at" in runner.invoke(args=["digest", "status", str(digest_id)]).output
    with app.app_context():
        db.session.execute(sa.update(Digest).values(scheduled_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    ran = runner.invoke(args=["send", "run"])
    assert "Started 1 scheduled digest," in ran.output
    assert len(outbox.received) == 2
