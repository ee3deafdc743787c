"""Every kind of message we send is DKIM-signed when that is configured (over the same
header set, From and Subject over-signed) and carries a return path a bounce of it is
matched by."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from newsletter import create_app
from newsletter.bounces import verp
from newsletter.delivery import execution
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber
from tests import dkimkeys
from tests.conftest import form_values
from tests.subscriptions.helpers import subscribe, subscribe_and_confirm

BOUNCES = "bounces.news.example.org"
signed = pytest.mark.app_config(**dkimkeys.CONFIG, BOUNCE_DOMAIN=BOUNCES)


def _relayed(data: bytes) -> bytes:
    """The message as a receiving server stores it: trace headers added on top."""
    return (
        b"Return-Path: <bounces@example.net>\r\n"
        b"Received: from relay.example.net (relay.example.net [192.0.2.1])\r\n"
        b"\tby mx.example.com with ESMTPS id 4x; Wed, 2 Dec 2026 10:00:00 +0000\r\n" + data
    )


def _assert_signed(data: bytes) -> None:
    assert dkimkeys.verifies(data)
    assert dkimkeys.verifies(_relayed(data))
    names = dkimkeys.signed_headers(data)
    for name in ("from", "to", "subject", "date", "message-id", "mime-version", "content-type"):
        assert name in names
    assert names.count("from") == 2  # over-signed: a second From breaks the signature
    assert names.count("subject") == 2
    assert not dkimkeys.verifies(b"From: Mallory <ceo@news.example.org>\r\n" + data)
    assert not dkimkeys.verifies(b"Subject: Urgent: wire the money\r\n" + data)


def _subscriber_id(app, address: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Subscriber.id).where(Subscriber.email_key == address))


@signed
def test_confirmation_welcome_and_note_are_signed_with_a_verp_return_path(
    app, client, outbox, make_list
):
    make_list("digest", "Dialogue digest", default=True)
    welcome = subscribe_and_confirm(client, outbox, "ada@example.org", name="Ada")
    confirmation = outbox.received[0]
    subscribe(client, "ada@example.org")  # already subscribed: a note, once per window
    with app.app_context():
        db.session.execute(sa.update(Subscriber).values(confirmation_sent_at=None))
        db.session.commit()
    subscribe(client, "ada@example.org")
    note = outbox.wait_for(3)[-1]
    assert note.message["Subject"].startswith("You are already subscribed")
    subscriber_id = _subscriber_id(app, "ada@example.org")
    with app.app_context():
        for received in (confirmation, welcome, note):
            _assert_signed(received.data)
            named = verp.read(received.mail_from)
            assert named == verp.Named("subscriber", subscriber_id, genuine=True)
            assert received.mail_from.endswith("@" + BOUNCES)
    assert "list-unsubscribe" in dkimkeys.signed_headers(welcome.data)
    assert "list-unsubscribe-post" in dkimkeys.signed_headers(welcome.data)


@signed
def test_test_mail_and_the_staff_test_copy_are_signed(
    app, runner, client, staff_login, digest_id, outbox
):
    assert runner.invoke(args=["send", "test-mail", "ops@example.org"]).exit_code == 0
    staff_login("editor@example.org")
    page = client.get(f"/staff/digests/{digest_id}/preview").get_data(as_text=True)
    assert (
        client.post(f"/staff/digests/{digest_id}/test", data=form_values(page)).status_code == 302
    )
    test_mail, test_copy = outbox.wait_for(2)
    for received in (test_mail, test_copy):
        _assert_signed(received.data)
        assert received.mail_from == f"bounces@{BOUNCES}"  # no one to match: signs nothing
    assert test_copy.message["Subject"].startswith("[Test] ")
    assert "list-unsubscribe" in dkimkeys.signed_headers(test_copy.data)


@signed
def test_staff_test_copy_is_the_real_copy_with_the_testers_own_links(
    app, client, staff_login, digest_id, add_subscribers, start, outbox
):
    """A staff member who is also a subscriber gets, in the test, the links that act on
    their own subscription; otherwise the copy is the one the readers get."""
    reader = add_subscribers(1, prefix="editor")[0]
    staff_login(reader)
    page = client.get(f"/staff/digests/{digest_id}/preview").get_data(as_text=True)
    client.post(f"/staff/digests/{digest_id}/test", data=form_values(page))
    (test_copy,) = outbox.wait_for(1)
    start(digest_id)
    execution.work_on(app, digest_id)
    real = outbox.wait_for(2)[1]
    for name in ("From", "List-Id", "List-Post", "Precedence", "List-Archive", "Content-Language"):
        assert test_copy.message[name] == real.message[name], name
    assert test_copy.message["Archived-At"] is None  # not archived before it is sent
    assert real.message["Archived-At"].startswith("<https://news.example.org/archive/")
    assert test_copy.message["Subject"] == "[Test] " + real.message["Subject"]
    unsubscribe = test_copy.message["List-Unsubscribe"].split("<", 1)[1].split(">", 1)[0]
    assert unsubscribe == real.message["List-Unsubscribe"].split("<", 1)[1].split(">", 1)[0]
    answer = client.post(
        unsubscribe.replace("https://news.example.org", ""),
        data={"List-Unsubscribe": "One-Click"},
    )
    assert answer.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Subscriber.status)) == "unsubscribed"


@signed
def test_digest_copies_are_signed_over_the_list_headers(
    app, add_subscribers, digest_id, start, outbox
):
    add_subscribers(2)
    start(digest_id)
    execution.work_on(app, digest_id)
    for received in outbox.wait_for(2):
        _assert_signed(received.data)
        names = dkimkeys.signed_headers(received.data)
        for name in ("list-id", "list-unsubscribe", "list-unsubscribe-post", "list-archive"):
            assert name in names
        for name in ("list-post", "archived-at", "precedence", "content-language"):
            assert name in names


@pytest.mark.parametrize(
    ("dkim_domain", "aligned"),
    [
        ("news.example.org", True),
        ("example.org", True),  # a parent: the same organisational domain
        ("mail.example.org", True),  # a sibling: relaxed alignment still matches
        ("example.net", False),
        ("example.org.evil.example", False),
        ("org", False),
    ],
)
def test_a_dkim_domain_must_align_with_the_from_domain(app_config, dkim_domain, aligned):
    config = {**app_config, **dkimkeys.CONFIG, "DKIM_DOMAIN": dkim_domain}
    if aligned:
        create_app(config)
        return
    with pytest.raises(RuntimeError, match="does not align with the From domain"):
        create_app(config)


def test_an_unreadable_dkim_key_refuses_to_start(app_config, tmp_path):
    config = {
        **app_config,
        **dkimkeys.CONFIG,
        "DKIM_PRIVATE_KEY": None,
        "DKIM_PRIVATE_KEY_FILE": str(tmp_path / "missing.pem"),
    }
    with pytest.raises(RuntimeError, match="cannot be read"):
        create_app(config)
    with pytest.raises(RuntimeError, match="cannot sign"):
        create_app({**config, "DKIM_PRIVATE_KEY": "not a key", "DKIM_PRIVATE_KEY_FILE": None})


@signed
@pytest.mark.app_config(INBOUND_FORWARD_TO="office@news.example.org")
def test_mail_sent_because_of_returned_mail_is_signed_too(
    app, runner, add_subscribers, digest_id, start, outbox
):
    """The confirmation an unsubscribe email without our token gets, and a reader's
    reply forwarded to staff."""
    (reader,) = add_subscribers(1)
    start(digest_id)
    execution.work_on(app, digest_id)
    outbox.wait_for(1)
    outbox.reset()
    ask = (
        f"From: {reader}\r\nTo: unsubscribe@news.example.org\r\nSubject: unsubscribe\r\n"
        "Message-ID: <ask@example.org>\r\n\r\nplease\r\n"
    ).encode()
    reply = (
        f"From: {reader}\r\nTo: digest@news.example.org\r\nSubject: Re: thanks\r\n"
        "Message-ID: <reply@example.org>\r\n\r\nThank you.\r\n"
    ).encode()
    for message in (ask, reply):
        assert runner.invoke(args=["inbound", "process", "-"], input=message).exit_code == 0
    confirmation, forwarded = outbox.wait_for(2)
    assert confirmation.to == reader
    assert forwarded.to == "office@news.example.org"
    for received in (confirmation, forwarded):
        _assert_signed(received.data)
    subscriber_id = _subscriber_id(app, reader)
    with app.app_context():
        assert verp.read(confirmation.mail_from) == verp.Named("subscriber", subscriber_id, True)
