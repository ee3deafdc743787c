"""Returned mail piped to ``flask inbound process``: who it matches, what it does, and
that nothing is half-done or done twice."""

from __future__ import annotations

import mailbox

import pytest
import sqlalchemy as sa

from newsletter.bounces import events, verp
from newsletter.bounces.models import EventKind, InboundMessage, InboundOutcome, MailEvent
from newsletter.delivery import execution
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.subscriptions import services
from newsletter.subscriptions.models import Subscriber, SubscriberStatus
from newsletter.tokens import Purpose, make_token
from tests.bounces.helpers import arf, dsn, plain
from tests.subscriptions.helpers import text_of

BOUNCES = "bounces.news.example.org"
with_verp = pytest.mark.app_config(BOUNCE_DOMAIN=BOUNCES)


def _send(app, add_subscribers, digest_id, start, outbox, count=3):
    readers = add_subscribers(count)
    start(digest_id)
    execution.work_on(app, digest_id)
    copies = {received.to: received for received in outbox.wait_for(count)}
    return readers, copies


def _status(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(Subscriber.status).where(Subscriber.email_key == email))


def _events(app):
    with app.app_context():
        return [event.value for event in db.session.scalars(sa.select(MailEvent.kind))]


def _pipe(runner, message: bytes):
    result = runner.invoke(args=["inbound", "process", "-"], input=message)
    assert result.exit_code == 0, result.output
    return result.output


@with_verp
def test_a_piped_bounce_stops_a_gone_address_and_leaves_a_full_mailbox(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (gone, full, fine), copies = _send(app, add_subscribers, digest_id, start, outbox)
    report = dsn(
        copies[gone].mail_from,
        gone,
        "5.1.1",
        "550 5.1.1 <x>: Recipient address rejected: User unknown in virtual mailbox table",
        returned=copies[gone].data,
    )
    output = _pipe(runner, report)
    assert "Bounces: 1 gone, 0 transient" in output
    _pipe(
        runner,
        dsn(copies[full].mail_from, full, "5.2.2", "552 5.2.2 Mailbox full",
            returned=copies[full].data),
    )  # fmt: skip
    assert _status(app, gone) == SubscriberStatus.BOUNCED
    assert _status(app, full) == SubscriberStatus.ACTIVE
    assert _status(app, fine) == SubscriberStatus.ACTIVE
    with app.app_context():
        event = db.session.scalar(
            sa.select(MailEvent).where(MailEvent.kind == EventKind.HARD_BOUNCE)
        )
        assert event.status_code == "5.1.1"
        assert "User unknown" in event.diagnostic
        assert event.source == "verp via stdin"
        assert event.digest_id == digest_id
        assert event.delivery_id is not None
    # The same report again changes nothing.
    again = _pipe(runner, report)
    assert "Seen before: 1" in again
    assert _events(app) == ["hard_bounce", "soft_bounce"]


def test_our_message_id_matches_when_no_verp_address_came_back(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (reader, *_), copies = _send(app, add_subscribers, digest_id, start, outbox)
    assert copies[reader].mail_from == "digest@news.example.org"  # no bounce domain
    _pipe(runner, dsn("digest@news.example.org", "someone-else@example.net", "5.1.1",
                      "550 5.1.1 user unknown", returned=copies[reader].data))  # fmt: skip
    assert _status(app, reader) == SubscriberStatus.BOUNCED
    with app.app_context():
        assert db.session.scalar(sa.select(MailEvent.source)) == "message-id via stdin"


def test_a_named_recipient_matches_only_if_we_mailed_them(
    app, runner, make_list, add_subscribers, digest_id, start, outbox
):
    (mailed, *_), _ = _send(app, add_subscribers, digest_id, start, outbox)
    (never,) = add_subscribers(1, prefix="never")  # active, but never sent anything
    _pipe(runner, dsn("digest@news.example.org", mailed, "5.1.1", "550 5.1.1 no such user"))
    _pipe(runner, dsn("digest@news.example.org", never, "5.1.1", "550 5.1.1 no such user"))
    complaint = plain("x@example.net", "fbl@news.example.org", "hi", To=never)
    output = _pipe(runner, arf("fbl@news.example.org", complaint))
    assert "About no one we mail: 1" in output
    assert _status(app, mailed) == SubscriberStatus.BOUNCED
    assert _status(app, never) == SubscriberStatus.ACTIVE
    with app.app_context():
        outcomes = [row.outcome for row in db.session.scalars(sa.select(InboundMessage))]
        summaries = " ".join(db.session.scalars(sa.select(InboundMessage.summary)))
    assert outcomes == [InboundOutcome.BOUNCE, InboundOutcome.UNMATCHED, InboundOutcome.UNMATCHED]
    assert never not in summaries  # what we keep about unmatched mail names no one


@with_verp
def test_a_forged_verp_address_matches_no_one(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (reader, *_), copies = _send(app, add_subscribers, digest_id, start, outbox)
    genuine = copies[reader].mail_from
    forged = genuine.replace("bounces+", "bounces+1")  # another delivery, no valid signature
    output = _pipe(runner, dsn(forged, reader, "5.1.1", "550 5.1.1 user unknown"))
    assert "About no one we mail: 1" in output
    assert _status(app, reader) == SubscriberStatus.ACTIVE
    with app.app_context():
        assert verp.read(forged) is not None
        assert not verp.read(forged).genuine
        assert db.session.scalar(sa.select(InboundMessage.summary)) == (
            "a report about a forged return address"
        )


@with_verp
def test_a_bounce_for_an_erased_person_changes_nothing_and_keeps_nothing(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (reader, *_), copies = _send(app, add_subscribers, digest_id, start, outbox)
    with app.app_context():
        services.erase_subscriber(services.subscriber_by_email(reader))
        db.session.commit()
    output = _pipe(runner, dsn(copies[reader].mail_from, reader, "5.1.1", "550 5.1.1 unknown",
                               returned=copies[reader].data))  # fmt: skip
    assert "About no one we mail: 1" in output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MailEvent.id))) == 0
        stored = db.session.scalar(sa.select(InboundMessage))
        assert stored.raw is None
        assert reader not in stored.summary


@pytest.mark.parametrize(
    "message",
    [b"", b"\x00\xff" * 500, b"\r\n\r\n\r\n", b"not a message at all"],
    ids=["empty", "binary", "blank lines", "one line"],
)
def test_unreadable_input_is_a_clear_outcome(app, runner, message):
    output = _pipe(runner, message)
    assert "Read 1 message(s)." in output
    assert "Unreadable: 1." in output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(MailEvent.id))) == 0


@with_verp
def test_a_20_mb_bounce_is_read_from_its_report(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (reader, *_), copies = _send(app, add_subscribers, digest_id, start, outbox)
    report = dsn(copies[reader].mail_from, reader, "5.1.1", "550 5.1.1 unknown user",
                 returned=copies[reader].data)  # fmt: skip
    attachment = b"--B0\r\nContent-Type: application/octet-stream\r\n\r\n"
    huge = report.replace(b"--B0--\r\n", attachment) + (b"A" * 76 + b"\r\n") * 270_000
    assert len(huge) > 20_000_000
    output = _pipe(runner, huge)
    assert "Bounces: 1 gone" in output
    assert _status(app, reader) == SubscriberStatus.BOUNCED
    with app.app_context():
        assert db.session.scalar(sa.select(InboundMessage.size)) == len(huge)


@with_verp
def test_transient_failures_count_up_to_the_threshold_and_a_success_resets_them(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (reader, *_), copies = _send(app, add_subscribers, digest_id, start, outbox)
    to = copies[reader].mail_from

    def soft(n: int) -> bytes:
        return dsn(to, reader, "4.2.2", f"452 4.2.2 Mailbox full ({n})", action="failed")

    _pipe(runner, soft(1))
    _pipe(runner, soft(2))
    _pipe(runner, dsn(to, reader, "2.0.0", "250 2.0.0 delivered", action="delivered"))
    _pipe(runner, soft(3))
    _pipe(runner, soft(4))
    assert _status(app, reader) == SubscriberStatus.ACTIVE  # two since the success
    output = _pipe(runner, soft(5))
    assert "Bounces: 0 gone, 1 transient" in output
    assert _status(app, reader) == SubscriberStatus.BOUNCED
    assert _events(app).count("delivered") == 1


@with_verp
def test_rejections_that_blame_us_never_count_and_pause_the_send(
    app, runner, add_subscribers, digest_id, start, outbox
):
    readers, copies = _send(app, add_subscribers, digest_id, start, outbox, count=4)
    with app.app_context():
        db.session.get(Digest, digest_id).status = DigestStatus.SENDING  # still going out
        db.session.commit()
    for reader in readers[:3]:
        _pipe(runner, dsn(copies[reader].mail_from, reader, "5.7.1",
                          "550 5.7.1 Service unavailable; client host blocked using Spamhaus",
                          returned=copies[reader].data))  # fmt: skip
    assert all(_status(app, reader) == SubscriberStatus.ACTIVE for reader in readers)
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        assert digest.status == DigestStatus.PAUSED
        assert "refused our mail" in digest.pause_reason
    assert _events(app) == ["rejected"] * 3
    with app.app_context():
        (latest, *_) = events.alerts()
        assert latest.status_code == "5.7.1"
        assert "Spamhaus" in latest.diagnostic
        assert latest.digest_id == digest_id


@with_verp
def test_complaints_and_auto_replies(app, runner, add_subscribers, digest_id, start, outbox):
    (angry, away, *_), copies = _send(app, add_subscribers, digest_id, start, outbox)
    output = _pipe(runner, arf("fbl@news.example.org", copies[angry].data))
    assert "Complaints: 1." in output
    assert _status(app, angry) == SubscriberStatus.COMPLAINED
    reply = plain(away, copies[away].mail_from, "Out of office: back on Monday",
                  Auto_Submitted="auto-replied")  # fmt: skip
    assert "Auto-replies: 1." in _pipe(runner, reply)
    assert _status(app, away) == SubscriberStatus.ACTIVE
    with app.app_context():
        from newsletter.subscriptions.roster import add_subscriber

        with pytest.raises(services.InvalidInput, match="reported our mail as spam"):
            add_subscriber(angry, lists=[], consent_note="re-import")


def test_mailto_unsubscribe_with_our_token_and_without(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (tokened, asking, *_), copies = _send(app, add_subscribers, digest_id, start, outbox)
    mailto = copies[tokened].message["List-Unsubscribe"].split("<mailto:", 1)[1].rstrip(">")
    address, subject = mailto.split("?subject=")
    request = plain("anyone@example.net", address, subject.replace("%20", " "))
    assert "Unsubscribes: 1 done" in _pipe(runner, request)
    assert _status(app, tokened) == SubscriberStatus.UNSUBSCRIBED

    outbox.reset()
    ask = plain(asking, "unsubscribe@news.example.org", "unsubscribe")
    assert "1 asked to confirm" in _pipe(runner, ask)
    assert _status(app, asking) == SubscriberStatus.ACTIVE  # anyone can forge a From
    (confirmation,) = outbox.wait_for(1)
    assert confirmation.to == asking
    assert "/unsubscribe/" in text_of(confirmation)
    _pipe(runner, plain(asking, "unsubscribe@news.example.org", "unsubscribe", body="again\r\n"))
    assert len(outbox.received) == 1  # at most one confirmation in the resend window
    stranger = plain("stranger@example.net", "unsubscribe@news.example.org", "unsubscribe")
    assert "About no one we mail: 1" in _pipe(runner, stranger)
    assert len(outbox.received) == 1


def test_a_bad_token_is_treated_as_no_token(app, runner, add_subscribers, digest_id, start, outbox):
    (reader, *_), _ = _send(app, add_subscribers, digest_id, start, outbox)
    with app.app_context():
        forged = make_token(Purpose.PREFERENCES, "0" * 32)  # a token made for another purpose
    outbox.reset()
    _pipe(runner, plain(reader, "unsubscribe@news.example.org", f"unsubscribe {forged}"))
    assert _status(app, reader) == SubscriberStatus.ACTIVE
    assert len(outbox.wait_for(1)) == 1  # asked to confirm instead


def test_replies_are_kept_listed_and_erased_with_their_author(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (reader, *_), _ = _send(app, add_subscribers, digest_id, start, outbox)
    output = _pipe(runner, plain(reader, "digest@news.example.org", "Re: your digest",
                                 body="Thank you, very useful.\r\n"))  # fmt: skip
    assert "Kept for staff: 1" in output
    listing = runner.invoke(args=["inbound", "list"])
    assert reader in listing.output
    assert "Re: your digest" in listing.output
    with app.app_context():
        services.erase_subscriber(services.subscriber_by_email(reader))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(InboundMessage.id))) == 0
    assert "No reply is waiting." in runner.invoke(args=["inbound", "list"]).output


@pytest.mark.app_config(INBOUND_FORWARD_TO="office@news.example.org")
def test_replies_are_forwarded_when_asked(app, runner, outbox):
    reply = plain("ada@example.org", "digest@news.example.org", "Re: your digest")
    assert "Forwarded: 1." in _pipe(runner, reply)
    (forwarded,) = outbox.wait_for(1)
    assert forwarded.to == "office@news.example.org"
    assert forwarded.message["Subject"] == "Fwd: Re: your digest"
    assert forwarded.message["Reply-To"] == "ada@example.org"
    attachment = next(forwarded.message.iter_attachments())
    assert attachment.get_content() == reply


def test_mbox_and_maildir_are_read_message_by_message(app, runner, tmp_path):
    messages = [plain(f"r{n}@example.org", "digest@news.example.org", f"Re {n}") for n in range(3)]
    box = mailbox.mbox(str(tmp_path / "returned.mbox"))
    for message in messages:
        box.add(message)
    box.close()
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"))
    for message in messages:
        maildir.add(message)
    first = runner.invoke(args=["inbound", "process", str(tmp_path / "returned.mbox")])
    assert "Read 3 message(s)." in first.output
    assert "Kept for staff: 3" in first.output
    second = runner.invoke(args=["inbound", "process", str(tmp_path / "Maildir")])
    assert "Read 3 message(s)." in second.output
    assert "Seen before: 3" in second.output
    missing = runner.invoke(args=["inbound", "process", str(tmp_path / "nothing")])
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    (tmp_path / "folder").mkdir()
    assert (
        "not a Maildir"
        in runner.invoke(args=["inbound", "process", str(tmp_path / "folder")]).output
    )


@with_verp
def test_the_event_history_and_the_daily_counts(
    app, runner, add_subscribers, digest_id, start, outbox
):
    (gone, full, *_), copies = _send(app, add_subscribers, digest_id, start, outbox)
    _pipe(runner, dsn(copies[gone].mail_from, gone, "5.1.1", "550 5.1.1 unknown user"))
    _pipe(runner, dsn(copies[full].mail_from, full, "4.2.2", "452 4.2.2 full", action="delayed"))
    with app.app_context():
        history = events.subscriber_events(services.subscriber_by_email(gone).id)
        assert [(e.kind, e.status_code) for e in history] == [(EventKind.HARD_BOUNCE, "5.1.1")]
        counts = {(c.kind, c.count) for c in events.counts_by_day()}
        assert counts == {(EventKind.HARD_BOUNCE, 1), (EventKind.DELAYED, 1)}
