"""Sending a digest to its audience through a real SMTP server, faults included."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from newsletter.delivery import execution, figures, sends, worker
from newsletter.delivery.models import Delivery, DeliveryStatus
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow
from tests.conftest import local


def _send(app, digest_id: int, concurrency: int = 1) -> list[worker.WorkerReport]:
    reports = execution.work_on(app, digest_id, concurrency=concurrency)
    execution.forget(app, digest_id)
    return reports


def _digest(app, digest_id: int) -> Digest:
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        db.session.expunge(digest)
        return digest


def _retries_due_now(app) -> None:
    """Skip the wait before every retry (sent deliveries are not claimed again anyway)."""
    with app.app_context():
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.status == DeliveryStatus.RETRY)
            .values(next_attempt_at=utcnow())
        )
        db.session.commit()


def _recipients(outbox) -> Counter:
    return Counter(received.to for received in outbox.received)


def test_every_active_subscriber_gets_one_personal_copy(
    app, make_list, add_subscribers, digest_id, start, outbox, deliveries
):
    make_list("events", "Event invitations")
    readers = add_subscribers(20)
    both = add_subscribers(3, lists=("digest", "events"), prefix="both")
    add_subscribers(2, lists=("events",), prefix="other-list")
    add_subscribers(2, status="unsubscribed", prefix="left")
    add_subscribers(2, status="pending", prefix="pending")
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        from newsletter.subscriptions.lists import list_by_slug

        digest.lists = [list_by_slug("digest"), list_by_slug("events")]
        db.session.commit()

    assert start(digest_id) == 25
    frozen = _digest(app, digest_id)
    assert frozen.status == DigestStatus.SENDING
    assert frozen.audience_size == 25
    assert frozen.slug

    _send(app, digest_id)  # returns once its workers are done: every copy has been sent
    counts = _recipients(outbox)
    expected = set(readers) | set(both) | {f"other-list{n}@example.org" for n in (23, 24)}
    assert set(counts) == expected
    assert set(counts.values()) == {1}
    assert {status for status, _, _ in deliveries(digest_id).values()} == {"sent"}
    done = _digest(app, digest_id)
    assert done.status == DigestStatus.SENT
    assert done.sent_at is not None

    messages = [received.message for received in outbox.received]
    ids = [message["Message-ID"] for message in messages]
    assert len(set(ids)) == 25
    assert all(mid.endswith("@news.example.org>") for mid in ids)
    first = messages[0]
    assert first["From"] == "Dialogue Digest <digest@news.example.org>"
    assert first["List-Id"] == "Dialogue digest <digest.newsletter.news.example.org>"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["Date"]
    assert first["To"].startswith("Reader ")
    unsubscribe_urls = {m["List-Unsubscribe"].split(",")[0].strip("<> ") for m in messages}
    assert len(unsubscribe_urls) == 25  # each reader their own
    text = first.get_body(("plain",)).get_content()
    own_url = first["List-Unsubscribe"].split(",")[0].strip("<> ")
    assert own_url in text
    assert "/archive/" + done.slug in text  # the web version link

    # The link in a copy unsubscribes exactly its reader.
    reader = outbox.received[0].to
    response = app.test_client().post(local(own_url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with app.app_context():
        statuses = dict(
            db.session.execute(sa.select(Subscriber.email_key, Subscriber.status)).all()
        )
    assert statuses[reader] == SubscriberStatus.UNSUBSCRIBED
    assert sum(1 for s in statuses.values() if s == SubscriberStatus.UNSUBSCRIBED) == 3


@pytest.mark.parametrize("pipelining", [True, False])
def test_refusals_at_each_step_with_and_without_pipelining(
    app, add_subscribers, digest_id, start, outbox, deliveries, pipelining
):
    outbox.advertise_pipelining(pipelining)
    at_rcpt, at_data, fine = add_subscribers(3)
    outbox.reply_to_rcpt(at_rcpt, "550 5.1.1 no such user")
    outbox.reply_to_data(at_data, "554 5.6.0 content rejected")
    start(digest_id)
    _send(app, digest_id)
    states = deliveries(digest_id)
    assert states[at_rcpt][0] == "failed"
    assert "550 5.1.1 no such user" in states[at_rcpt][2]
    assert states[at_data][0] == "failed"
    assert "554 5.6.0 content rejected" in states[at_data][2]
    assert states[fine][0] == "sent"
    assert [m.to for m in outbox.received] == [fine]


@pytest.mark.app_config(SEND_MAX_PER_CONNECTION=4)
def test_connections_are_renewed_after_the_configured_number(
    app, add_subscribers, digest_id, start, outbox
):
    readers = add_subscribers(10)
    start(digest_id)
    _send(app, digest_id)
    assert sorted(_recipients(outbox)) == sorted(readers)
    assert outbox.handler.connections == 3  # 4 + 4 + 2


def test_message_ids_are_stable_for_a_retry(app, add_subscribers, digest_id, start, outbox):
    (reader,) = add_subscribers(1)
    outbox.reply_to_data(reader, "451 4.3.0 try later", "250 OK")
    start(digest_id)
    _send(app, digest_id)
    _retries_due_now(app)
    _send(app, digest_id)
    (received,) = outbox.wait_for(1)
    with app.test_request_context():
        from newsletter.delivery.copies import DigestMailer, Recipient

        subscriber = db.session.scalar(sa.select(Subscriber))
        delivery = db.session.scalar(sa.select(Delivery).where(Delivery.digest_id == digest_id))
        mailer = DigestMailer(db.session.get(Digest, digest_id))
        assert received.message["Message-ID"] == mailer.message_id(
            Recipient(delivery.id, subscriber.email, "", subscriber.public_id)
        )


def test_people_who_left_after_the_start_are_skipped(
    app, add_subscribers, digest_id, start, outbox, deliveries
):
    readers = add_subscribers(4)
    start(digest_id)
    with app.app_context():
        subscriber = db.session.scalar(
            sa.select(Subscriber).where(Subscriber.email_key == readers[1])
        )
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        erased = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == readers[2]))
        db.session.delete(erased)
        db.session.commit()
    _send(app, digest_id)
    assert set(_recipients(outbox)) == {readers[0], readers[3]}
    states = deliveries(digest_id)
    assert states[readers[1]][0] == "skipped"
    assert states[None][0] == "skipped"  # the erased person's row, anonymous now
    assert _digest(app, digest_id).status == DigestStatus.SENT


def test_temporary_refusals_are_retried_then_give_up(
    app, add_subscribers, digest_id, start, outbox, deliveries
):
    slow, stubborn, fine = add_subscribers(3)
    outbox.reply_to_rcpt(slow, "451 4.7.1 greylisted, try again", "250 OK")
    outbox.reply_to_rcpt(stubborn, "452 4.2.2 mailbox full")
    start(digest_id)
    _send(app, digest_id)
    states = deliveries(digest_id)
    assert states[fine][0] == "sent"
    assert states[slow][:2] == ("retry", 1)
    assert "451 4.7.1 greylisted" in states[slow][2]
    assert _digest(app, digest_id).status == DigestStatus.SENDING  # retries pending

    for _ in range(app.config["SEND_MAX_ATTEMPTS"]):
        _retries_due_now(app)
        _send(app, digest_id)
    states = deliveries(digest_id)
    assert states[slow][:2] == ("sent", 2)
    assert states[stubborn][:2] == ("failed", app.config["SEND_MAX_ATTEMPTS"])
    assert set(_recipients(outbox)) == {slow, fine}
    assert _digest(app, digest_id).status == DigestStatus.SENT


def test_permanent_refusals_fail_and_count_as_bounces(
    app, add_subscribers, digest_id, start, outbox, deliveries
):
    gone, full, fine = add_subscribers(3)
    outbox.reply_to_rcpt(gone, "550 5.1.1 no such user")
    outbox.reply_to_data(full, "552 5.2.2 over quota")
    start(digest_id)
    _send(app, digest_id)
    states = deliveries(digest_id)
    assert states[gone][0] == "failed"
    assert states[full][0] == "failed"
    assert states[fine][0] == "sent"
    with app.app_context():
        people = {s.email_key: s for s in db.session.scalars(sa.select(Subscriber))}
        assert people[gone].status == SubscriberStatus.BOUNCED  # the mailbox does not exist
        assert people[full].status == SubscriberStatus.ACTIVE  # one bounce, not past the threshold
        assert people[full].bounce_score == 1.0
    assert set(_recipients(outbox)) == {fine}


def test_our_own_configuration_fault_pauses_the_send(
    app, add_subscribers, digest_id, start, outbox, deliveries
):
    readers = add_subscribers(5)
    outbox.require_auth()
    start(digest_id)
    _send(app, digest_id)
    digest = _digest(app, digest_id)
    assert digest.status == DigestStatus.PAUSED
    assert "530 5.7.0 Authentication required" in digest.pause_reason
    assert {state[0] for state in deliveries(digest_id).values()} == {"queued"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.sum(Subscriber.bounce_score))) == 0

    outbox.require_auth(False)
    with app.app_context():
        sends.resume(db.session.get(Digest, digest_id))
        db.session.commit()
    _send(app, digest_id)
    assert sorted(_recipients(outbox)) == sorted(readers)
    assert _digest(app, digest_id).status == DigestStatus.SENT


def test_a_run_of_errors_pauses_the_send(app, add_subscribers, digest_id, start, outbox):
    readers = add_subscribers(8)
    for reader in readers:
        outbox.reply_to_rcpt(reader, "450 4.2.0 busy")
    app.config["SEND_ERROR_BUDGET"] = 5
    start(digest_id)
    _send(app, digest_id)
    digest = _digest(app, digest_id)
    assert digest.status == DigestStatus.PAUSED
    assert "5 errors in a row; the last one: 450 4.2.0 busy" in digest.pause_reason


def test_dropped_connections_lose_no_one(
    app, add_subscribers, digest_id, start, outbox, deliveries
):
    readers = add_subscribers(30)
    outbox.drop_connection_every(7)  # stored, then the connection closes before "250"
    start(digest_id)
    for _ in range(6):
        _send(app, digest_id)
        _retries_due_now(app)
    counts = _recipients(outbox)
    states = deliveries(digest_id)
    assert set(counts) == set(readers)
    assert {state[0] for state in states.values()} == {"sent"}
    sent_again = [reader for reader, count in counts.items() if count > 1]
    assert len(sent_again) == 30 // 7  # only the messages whose answer was lost
    assert all(count == 2 for reader, count in counts.items() if reader in sent_again)


def test_pause_stops_and_resume_finishes_without_repeats(
    app, add_subscribers, digest_id, start, outbox
):
    readers = add_subscribers(60)
    outbox.slow_down(0.05)
    start(digest_id)
    worker = threading.Thread(target=_send, args=(app, digest_id))
    worker.start()
    outbox.wait_for(5)
    with app.app_context():
        sends.pause(db.session.get(Digest, digest_id))
        db.session.commit()
    worker.join(20)
    assert not worker.is_alive()
    assert _digest(app, digest_id).status == DigestStatus.PAUSED
    got_before = len(outbox.received)
    assert got_before < 60
    with app.app_context():
        progress = figures.progress(digest_id)
        assert progress.in_flight == 0  # the worker gave its claims back
        assert progress.sent == got_before
        sends.resume(db.session.get(Digest, digest_id))
        db.session.commit()
    outbox.slow_down(0)
    _send(app, digest_id)
    counts = _recipients(outbox)
    assert set(counts) == set(readers)
    assert set(counts.values()) == {1}


def test_cancel_stops_for_good(app, add_subscribers, digest_id, start, outbox, deliveries):
    add_subscribers(10)
    start(digest_id)
    with app.app_context():
        assert sends.cancel(db.session.get(Digest, digest_id)) == 10
        db.session.commit()
    _send(app, digest_id)
    assert outbox.received == []
    assert {state[0] for state in deliveries(digest_id).values()} == {"cancelled"}
    assert _digest(app, digest_id).status == DigestStatus.CANCELLED


def test_rate_limit_is_obeyed(app, add_subscribers, digest_id, start, outbox):
    add_subscribers(25)
    app.config["SEND_RATE_PER_SECOND"] = 10
    start(digest_id)
    _send(app, digest_id)
    stamps = sorted(outbox.received_at)
    assert len(stamps) == 25
    # No second-long window holds more than the limit (and the sliding window's slack).
    busiest = max(sum(1 for t in stamps if start_ <= t < start_ + 1.0) for start_ in stamps)
    assert busiest <= 12


def test_a_send_to_nobody_is_finished_at_once(app, digest_id, start, outbox):
    assert start(digest_id) == 0
    assert _digest(app, digest_id).status == DigestStatus.SENT


def test_start_refuses_what_cannot_be_sent(app, digest_id, start):
    from newsletter.validation import InvalidInput

    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        digest.lists = []
        db.session.commit()
        with pytest.raises(InvalidInput, match="Choose at least one list"):
            sends.start_send(digest)
        digest.lists = [db.session.scalar(sa.select(__import__("newsletter").models.MailingList))]
        digest.status = DigestStatus.SENT
        db.session.commit()
        with pytest.raises(InvalidInput, match="sent already"):
            sends.start_send(digest)


def test_scheduled_digest_goes_out_at_its_time(app, add_subscribers, digest_id, outbox):
    readers = add_subscribers(3)
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        sends.schedule(digest, utcnow() + timedelta(hours=1))
        db.session.commit()
    report = execution.tick(app)
    assert report.started == []
    with app.app_context():
        db.session.execute(sa.update(Digest).values(scheduled_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    report = execution.tick(app)
    assert report.started == [digest_id]
    _send(app, digest_id)
    assert sorted(_recipients(outbox)) == sorted(readers)
    assert execution.tick(app).resumed == []


def test_web_version_is_there_while_sending_and_listed_once_sent(
    app, client, add_subscribers, digest_id, start, outbox
):
    add_subscribers(2)
    start(digest_id)
    slug = _digest(app, digest_id).slug
    assert client.get(f"/archive/{slug}").status_code == 200
    assert slug not in client.get("/archive").get_data(as_text=True)
    _send(app, digest_id)
    assert slug in client.get("/archive").get_data(as_text=True)
