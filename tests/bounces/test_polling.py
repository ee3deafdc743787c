"""Returned mail fetched from a real mailbox (Dovecot, over TLS) by the clock: each
message moved or deleted only once its outcome is committed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from newsletter.bounces import polling
from newsletter.delivery import execution
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber, SubscriberStatus
from tests.bounces.dovecot import Dovecot
from tests.bounces.helpers import dsn, plain

BOUNCES = "bounces.news.example.org"


def _copies(app, add_subscribers, digest_id, start, outbox, count=2):
    readers = add_subscribers(count)
    start(digest_id)
    execution.work_on(app, digest_id)
    return readers, {received.to: received for received in outbox.wait_for(count)}


def _status(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(Subscriber.status).where(Subscriber.email_key == email))


@pytest.fixture
def configured(app_config, dovecot: Dovecot, request):
    protocol = getattr(request, "param", "imap")
    app_config.update(dovecot.config(protocol), BOUNCE_DOMAIN=BOUNCES)
    return protocol


@pytest.mark.parametrize("configured", ["imap", "pop3"], indirect=True)
def test_the_clock_fetches_bounces_and_empties_the_mailbox(
    configured, dovecot, app, add_subscribers, digest_id, start, outbox
):
    (gone, full), copies = _copies(app, add_subscribers, digest_id, start, outbox)
    dovecot.deliver(
        dsn(copies[gone].mail_from, gone, "5.1.1", "550 5.1.1 user unknown",
            returned=copies[gone].data),
        dsn(copies[full].mail_from, full, "4.2.2", "452 4.2.2 mailbox full", action="delayed"),
        plain("ada@example.org", "digest@news.example.org", "Re: thanks"),
    )  # fmt: skip
    report = execution.tick(app)
    assert report.inbound_read == 3
    assert _status(app, gone) == SubscriberStatus.BOUNCED
    assert _status(app, full) == SubscriberStatus.ACTIVE
    assert dovecot.waiting() == 0
    assert execution.tick(app).inbound_read == 0


@pytest.mark.app_config(INBOUND_IMAP_MOVE_TO="Processed")
def test_imap_moves_processed_mail_to_a_folder(
    configured, dovecot, app, add_subscribers, digest_id, start, outbox
):
    (gone, _), copies = _copies(app, add_subscribers, digest_id, start, outbox)
    dovecot.deliver(dsn(copies[gone].mail_from, gone, "5.1.1", "550 5.1.1 user unknown"))
    import imaplib
    import ssl

    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    with imaplib.IMAP4_SSL("127.0.0.1", dovecot.imaps_port, ssl_context=context) as client:
        client.login("bounces", "a long test password")
        client.create("Processed")
    summary = polling.poll(app)
    assert summary is not None
    assert summary.read == 1
    assert dovecot.waiting() == 0
    assert dovecot.folder_count("Processed") == 1
    assert _status(app, gone) == SubscriberStatus.BOUNCED


def test_a_message_that_fails_stays_in_the_mailbox(
    configured, dovecot, app, add_subscribers, digest_id, start, outbox, monkeypatch
):
    (gone, _), copies = _copies(app, add_subscribers, digest_id, start, outbox)
    dovecot.deliver(dsn(copies[gone].mail_from, gone, "5.1.1", "550 5.1.1 user unknown"))
    from newsletter.bounces import runner

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(runner, "process_message", broken)
    summary = polling.poll(app)
    assert summary is not None
    assert summary.outcomes["error"] == 1
    assert dovecot.waiting() == 1  # not committed, so not deleted
    assert _status(app, gone) == SubscriberStatus.ACTIVE
    monkeypatch.undo()
    assert polling.poll(app).read == 1
    assert dovecot.waiting() == 0
    assert _status(app, gone) == SubscriberStatus.BOUNCED


def test_a_wrong_password_or_an_untrusted_certificate_is_a_clear_error(
    app_config, dovecot, runner_factory
):
    bad_password = {**dovecot.config("imap"), "INBOUND_IMAP_PASSWORD": "wrong"}
    result = runner_factory(bad_password).invoke(args=["inbound", "poll"])
    assert result.exit_code == 1
    assert "the inbound mailbox failed" in result.output
    untrusted = {**dovecot.config("imap"), "INBOUND_TLS_CA_FILE": None}
    result = runner_factory(untrusted).invoke(args=["inbound", "poll"])
    assert result.exit_code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in result.output


@pytest.fixture
def runner_factory(app_config):
    from newsletter import create_app

    apps = []

    def make(extra):
        app = create_app({**app_config, **extra})
        apps.append(app)
        return app.test_cli_runner()

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()
