"""The raw bytes of a digest copy meet the standards a deliverability engineer checks:
folded headers, short encoded words and QP lines, a numeric Date zone, the list
headers, a Message-ID that links nothing across issues."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from newsletter.delivery import execution
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber, SubscriberStatus

EMOJI_NAME = "😀" * 200
PERSIAN_SUBJECT = "گفت‌وگوی منطقه‌ای: صلح، تجارت و اتصال در افغانستان و همسایگانش"
_ENCODED_WORD_RE = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _head_and_parts(data: bytes) -> tuple[list[bytes], list[bytes]]:
    head, body = data.split(b"\r\n\r\n", 1)
    return head.split(b"\r\n"), body.split(b"\r\n")


def _set_subject(app, digest_id: int, subject: str, preheader: str) -> None:
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        digest.subject, digest.preheader = subject, preheader
        db.session.commit()


def _add(app, email: str, name: str) -> None:
    from newsletter.subscriptions.lists import list_by_slug
    from newsletter.subscriptions.models import Membership

    with app.app_context():
        subscriber = Subscriber(
            email=email, email_key=email, name=name, status=SubscriberStatus.ACTIVE
        )
        subscriber.memberships.append(Membership(mailing_list=list_by_slug("digest")))
        db.session.add(subscriber)
        db.session.commit()


@pytest.mark.app_config(FEEDBACK_ID="dialogue-digest")
def test_a_copy_with_a_long_name_and_a_persian_subject_meets_the_standards(
    app, digest_id, start, outbox
):
    _add(app, "emoji@example.org", EMOJI_NAME)
    _set_subject(app, digest_id, PERSIAN_SUBJECT, "Kabul, then regional trade")
    start(digest_id)
    execution.work_on(app, digest_id)
    (received,) = outbox.wait_for(1)
    head, body = _head_and_parts(received.data)
    assert all(byte < 128 for byte in received.data)
    long_lines = [line for line in head if len(line) > 78]
    assert all(b"<https://" in line or b"<mailto:" in line for line in long_lines), long_lines
    assert max(len(line) for line in head) < 998
    words = _ENCODED_WORD_RE.findall(received.data)
    assert len(words) > 10
    assert max(len(word) for word in words) <= 75
    assert max(len(line) for line in body) <= 76  # quoted-printable, after every escape

    message = received.message
    assert message["Subject"] == PERSIAN_SUBJECT
    assert re.search(r" \+0000$", message["Date"])
    assert message["List-Id"] == "Dialogue digest <digest.newsletter.news.example.org>"
    assert len(message.get_all("List-Id")) == 1
    assert message["List-Post"] == "NO"
    assert message["Precedence"] == "bulk"
    assert message["List-Archive"] == "<https://news.example.org/archive>"
    with app.app_context():
        slug = db.session.get(Digest, digest_id).slug
    assert message["Archived-At"] == f"<https://news.example.org/archive/{slug}>"
    assert message["Content-Language"] == "en"
    feedback = message["Feedback-ID"].split(":")
    assert feedback[1:] == ["digest", "dialogue-digest"]
    html = message.get_body(("html",)).get_content()
    assert "Kabul, then regional trade" in html


def test_list_id_phrase_is_quoted_when_it_needs_it(app, make_list):
    from newsletter.mailing import headers

    with app.app_context():
        assert headers.list_id("Dialogue digest", "digest") == (
            "Dialogue digest <digest.newsletter.news.example.org>"
        )
        assert headers.list_id("Policy: Asia & Co.", "asia") == (
            '"Policy: Asia & Co." <asia.newsletter.news.example.org>'
        )
        assert headers.list_id("Réseau", "fr").startswith("=?utf-8?q?R=C3=A9seau?= <fr.")
        assert headers.list_id() == "Dialogue Digest <newsletter.news.example.org>"


def test_message_ids_link_no_subscriber_across_digests(
    app, digest_id, add_subscribers, start, outbox
):
    add_subscribers(1)
    start(digest_id)
    execution.work_on(app, digest_id)
    with app.app_context():
        second = Digest(subject="Second issue", public_id=uuid.uuid4())
        first = db.session.get(Digest, digest_id)
        second.lists = list(first.lists)
        second.items = []
        db.session.add(second)
        db.session.commit()
        second_id = second.id
    from newsletter.digests import services as digests

    with app.app_context():
        digests.add_points(
            db.session.get(Digest, second_id),
            [item.point_id for item in db.session.get(Digest, digest_id).items[:1]],
        )
        db.session.commit()
    start(second_id)
    execution.work_on(app, second_id)
    one, two = (received.message["Message-ID"] for received in outbox.wait_for(2))
    local_one = set(one.strip("<>").split("@")[0].split("."))
    local_two = set(two.strip("<>").split("@")[0].split("."))
    assert not local_one & local_two, (one, two)


def test_our_own_form_refused_is_never_the_subscribers_bounce(
    app, add_subscribers, digest_id, start, outbox, deliveries
):
    long_line, too_big, gone = add_subscribers(3)
    outbox.reply_to_data(long_line, "500 5.5.0 Line too long")
    outbox.reply_to_data(too_big, "552 5.3.4 Message size exceeds fixed maximum message size")
    outbox.reply_to_rcpt(gone, "550 5.1.1 User unknown")
    start(digest_id)
    execution.work_on(app, digest_id)
    assert {email: status for email, (status, _, _) in deliveries(digest_id).items()} == {
        long_line: "failed",
        too_big: "failed",
        gone: "failed",
    }
    with app.app_context():
        people = {s.email: s for s in db.session.scalars(sa.select(Subscriber))}
        assert people[long_line].status == SubscriberStatus.ACTIVE
        assert people[long_line].bounce_score == 0
        assert people[too_big].status == SubscriberStatus.ACTIVE
        assert people[too_big].bounce_score == 0
        assert people[gone].status == SubscriberStatus.BOUNCED


def test_each_copy_names_the_one_list_its_reader_gets_it_through(
    app, digest_id, make_list, add_subscribers, start, outbox
):
    """A digest to two lists: each copy carries one List-Id, the reader's first target
    list by id (a list they are on that the digest does not go to does not count)."""
    from newsletter.subscriptions.lists import list_by_slug

    make_list("other", "Other news")  # created before "events": a lower id, not a target
    make_list("events", "Event invitations")
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        digest.lists = [list_by_slug("digest"), list_by_slug("events")]
        db.session.commit()
    (digest_only,) = add_subscribers(1, ("digest",), prefix="d")
    (events_only,) = add_subscribers(1, ("events",), prefix="e")
    (both,) = add_subscribers(1, ("events", "digest"), prefix="b")
    (other_and_events,) = add_subscribers(1, ("other", "events"), prefix="o")
    start(digest_id)
    execution.work_on(app, digest_id)
    received = {copy.rcpt_tos[0]: copy.message for copy in outbox.wait_for(4)}
    digest_list = "Dialogue digest <digest.newsletter.news.example.org>"
    events_list = "Event invitations <events.newsletter.news.example.org>"
    expected = {
        digest_only: digest_list,
        events_only: events_list,
        both: digest_list,
        other_and_events: events_list,
    }
    assert {address: m.get_all("List-Id") for address, m in received.items()} == {
        address: [list_id] for address, list_id in expected.items()
    }
