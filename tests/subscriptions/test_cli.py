"""The subscriber and list commands, run as an operator runs them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    Subscriber,
    SubscriberStatus,
)
from newsletter.timeutil import utcnow
from tests.waiting import all_mail_attempted


@pytest.fixture
def lists(runner):
    assert (
        runner.invoke(args=["lists", "create", "digest", "Dialogue digest", "--default"]).exit_code
        == 0
    )
    assert runner.invoke(args=["lists", "create", "events", "Event invitations"]).exit_code == 0


def _subscribers(app) -> dict[str, Subscriber]:
    with app.app_context():
        found = {s.email_key: s for s in db.session.scalars(sa.select(Subscriber))}
        for subscriber in found.values():
            subscriber.list_slugs = sorted(m.mailing_list.slug for m in subscriber.memberships)
        db.session.expunge_all()
        return found


def test_lists_create_and_list(runner, lists):
    result = runner.invoke(args=["lists", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["slug", "name", "visibility"]
    assert "digest" in lines[1]
    assert "default" in lines[1]
    assert "events" in lines[2]
    assert "public" in lines[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lists", "create", "Bad Slug!", "Name"], "A list slug has 1 to 64 characters"),
        (["lists", "create", "digest", "Again"], "exists already"),
        (["lists", "create", "ok", "Name\nBcc: x"], "must be on one line"),
    ],
)
def test_lists_create_refuses_bad_input(runner, lists, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output


def test_subscribers_add_show(app, runner, lists, outbox):
    result = runner.invoke(
        args=[
            "subscribers",
            "add",
            "Ann@Example.org",
            "--name",
            "Ann",
            "--list",
            "events",
            "--consent-note",
            "business card, 2024",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Added Ann@example.org (events)." in result.output
    ann = _subscribers(app)["ann@example.org"]
    assert ann.status == SubscriberStatus.ACTIVE
    assert ann.list_slugs == ["events"]
    all_mail_attempted(app)
    assert outbox.received == []  # consent is held: nothing to confirm

    again = runner.invoke(args=["subscribers", "add", "ann@example.org", "--list", "digest"])
    assert "Updated Ann@example.org (digest)." in again.output
    assert _subscribers(app)["ann@example.org"].list_slugs == ["digest", "events"]

    shown = runner.invoke(args=["subscribers", "show", "ANN@example.org"])
    assert shown.exit_code == 0
    assert "Ann@example.org  active" in shown.output
    assert "lists: digest, events" in shown.output
    assert "business card, 2024" in shown.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["subscribers", "add", "nope"], "not a valid email address"),
        (
            ["subscribers", "add", "a@example.org", "--list", "missing"],
            "There is no list 'missing'",
        ),
        (["subscribers", "add", "a@example.org", "--name", "A\r\nB"], "must be on one line"),
        (["subscribers", "show", "nobody@example.org"], "No subscriber"),
    ],
)
def test_subscribers_commands_name_the_problem(app, runner, lists, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert message in result.output
    assert _subscribers(app) == {}


def test_add_refuses_someone_who_left(app, runner, lists):
    runner.invoke(args=["subscribers", "add", "left@example.org"])
    with app.app_context():
        db.session.scalar(sa.select(Subscriber)).status = SubscriberStatus.UNSUBSCRIBED
        db.session.commit()
    result = runner.invoke(args=["subscribers", "add", "left@example.org"])
    assert result.exit_code == 1
    assert "unsubscribed on" in result.output
    assert "not re-added" in result.output


def test_import_reports_every_row(app, runner, lists, tmp_path, outbox):
    runner.invoke(args=["subscribers", "add", "old@example.org", "--list", "events"])
    runner.invoke(args=["subscribers", "add", "left@example.org"])
    with app.app_context():
        left = db.session.scalar(
            sa.select(Subscriber).where(Subscriber.email_key == "left@example.org")
        )
        left.status = SubscriberStatus.UNSUBSCRIBED
        db.session.commit()
    source = tmp_path / "people.csv"
    source.write_text(
        "Email,Name,Organisation,Phone\n"
        "new@example.org,New Person,Think Tank,123\n"
        "not-an-address,Bad,,\n"
        "\n"
        'OLD@example.org,"Old, Person",,\n'
        "new@example.org,Duplicate,,\n"
        "left@example.org,,,\n"
        '"multi\nline@example.org",,,\n'
        "x@example.org,Too,Many,Fields,Here\n"
        'ok@example.org,"Name\x07",,\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        args=[
            "subscribers",
            "import",
            str(source),
            "--list",
            "digest",
            "--consent-note",
            "conference sign-up sheet",
        ]
    )
    assert result.exit_code == 0, result.output
    assert (
        "8 rows: added 1, updated 1, unchanged 0, merged duplicates 1, rejected 5." in result.output
    )
    assert "Ignored columns: Phone." in result.output
    assert "line 3: That is not a valid email address" in result.output
    assert "line 7: this person unsubscribed on" in result.output
    assert "line 8: " in result.output  # the quoted field spanning lines 8-9
    assert "line 10: more fields than the header has columns" in result.output
    assert "line 11: The name contains a control character." in result.output

    people = _subscribers(app)
    assert people["new@example.org"].name == "New Person"
    assert people["new@example.org"].organisation == "Think Tank"
    assert people["new@example.org"].status == SubscriberStatus.ACTIVE
    assert people["old@example.org"].list_slugs == ["digest", "events"]
    assert people["old@example.org"].name == "Old, Person"
    assert people["left@example.org"].status == SubscriberStatus.UNSUBSCRIBED
    assert set(people) == {"new@example.org", "old@example.org", "left@example.org"}
    with app.app_context():
        event = db.session.scalar(
            sa.select(ConsentEvent).where(ConsentEvent.action == ConsentAction.IMPORTED)
        )
        assert event.note == "conference sign-up sheet"
    all_mail_attempted(app)
    assert outbox.received == []


def test_import_without_prior_consent_sends_confirmations(app, runner, lists, tmp_path, outbox):
    source = tmp_path / "people.csv"
    source.write_text("email\na@example.org\nb@example.org\n")
    result = runner.invoke(args=["subscribers", "import", str(source), "--send-confirmation"])
    assert result.exit_code == 0, result.output
    assert {p.status for p in _subscribers(app).values()} == {SubscriberStatus.PENDING}
    received = outbox.wait_for(2)
    assert sorted(m.to for m in received) == ["a@example.org", "b@example.org"]
    assert all("/confirm/" in m.message.get_body(("plain",)).get_content() for m in received)


def test_import_asks_how_people_consented(runner, lists, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("email\na@example.org\n")
    result = runner.invoke(args=["subscribers", "import", str(source)])
    assert result.exit_code == 2
    assert "--consent-note TEXT" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"email\na@example.org\nb@example.org\n\xff\xfe bad bytes\n",
            "line 4: the file is not UTF-8",
        ),
        (b"", "line 1: the file is empty"),
        (b"name,organisation\nA,B\n", "line 1: the first line must name the columns"),
    ],
)
def test_unreadable_file_imports_nothing(app, runner, lists, tmp_path, content, message):
    runner.invoke(args=["subscribers", "add", "kept@example.org", "--name", "Kept"])
    source = tmp_path / "people.csv"
    source.write_bytes(content)
    result = runner.invoke(args=["subscribers", "import", str(source), "--consent-note", "x"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was imported." in result.output
    people = _subscribers(app)
    assert list(people) == ["kept@example.org"]
    assert people["kept@example.org"].name == "Kept"


def test_import_dry_run_stores_nothing(app, runner, lists, tmp_path):
    source = tmp_path / "people.csv"
    source.write_text("email\na@example.org\n")
    result = runner.invoke(
        args=["subscribers", "import", str(source), "--consent-note", "x", "--dry-run"]
    )
    assert "Dry run, nothing stored: 1 rows: added 1" in result.output
    assert _subscribers(app) == {}


def test_import_streams_large_files_in_batches(app, runner, lists, tmp_path):
    source = tmp_path / "people.csv"
    with source.open("w") as handle:
        handle.write("email,name\n")
        for n in range(1234):
            handle.write(f"person{n}@example.org,Person {n}\n")
    result = runner.invoke(args=["subscribers", "import", str(source), "--consent-note", "x"])
    assert "1234 rows: added 1234" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 1234


def test_purge_pending(app, runner, lists):
    now = utcnow()
    with app.app_context():
        from newsletter.subscriptions.lists import default_lists
        from newsletter.subscriptions.services import Origin, record

        digest = default_lists()
        for email, status, age, confirmed_before in [
            ("stale@example.org", SubscriberStatus.PENDING, 10, False),
            ("fresh@example.org", SubscriberStatus.PENDING, 1, False),
            ("came-back@example.org", SubscriberStatus.PENDING, 10, True),
            ("active@example.org", SubscriberStatus.ACTIVE, 30, True),
        ]:
            subscriber = Subscriber(
                email=email,
                email_key=email,
                status=status,
                status_changed_at=now - timedelta(days=age),
            )
            db.session.add(subscriber)
            db.session.flush()
            if confirmed_before:
                record(
                    subscriber,
                    ConsentAction.CONFIRMED,
                    now - timedelta(days=40),
                    Origin(),
                    None,
                    digest,
                )
        db.session.commit()
    result = runner.invoke(args=["subscribers", "purge-pending", "--older-than", "7"])
    assert result.exit_code == 0
    assert "Deleted 1 unconfirmed subscriber(s); 1 earlier subscriber(s)" in result.output
    people = _subscribers(app)
    assert set(people) == {"fresh@example.org", "came-back@example.org", "active@example.org"}
    assert people["came-back@example.org"].status == SubscriberStatus.UNSUBSCRIBED
    assert runner.invoke(args=["subscribers", "purge-pending"]).exit_code == 2


def test_send_test_mail(runner, outbox):
    result = runner.invoke(args=["send", "test-mail", "ops@example.org"])
    assert result.exit_code == 0, result.output
    assert "Sent a test message to ops@example.org." in result.output
    (received,) = outbox.wait_for(1)
    assert received.message["Subject"] == "Test message"


def test_send_test_mail_reports_a_refusal(runner, outbox):
    outbox.reply_to_rcpt("ops@example.org", "550 5.1.1 no such user")
    result = runner.invoke(args=["send", "test-mail", "ops@example.org"])
    assert result.exit_code == 1
    assert "550 5.1.1 no such user" in result.output
