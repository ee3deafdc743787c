"""The set-based import keeps every rule of the one-by-one import, across batches too."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions import services
from newsletter.subscriptions.importer import import_subscribers
from newsletter.subscriptions.lists import resolve_lists
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    Membership,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from tests.conftest import form_values, local
from tests.subscriptions.helpers import confirm_link


@pytest.fixture
def lists(runner):
    for args in (["digest", "Dialogue digest", "--default"], ["events", "Event invitations"]):
        assert runner.invoke(args=["lists", "create", *args]).exit_code == 0


def _people(app) -> dict[str, tuple[str, SubscriberStatus, str, str, list[str]]]:
    """Every subscriber by key: (address, status, name, organisation, list slugs)."""
    with app.app_context():
        found = {}
        for subscriber in db.session.scalars(sa.select(Subscriber)):
            slugs = sorted(m.mailing_list.slug for m in subscriber.memberships)
            found[subscriber.email_key] = (
                subscriber.email,
                subscriber.status,
                subscriber.name,
                subscriber.organisation,
                slugs,
            )
        db.session.remove()
        return found


def _events(app, email_key: str) -> list[tuple[ConsentAction, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(ConsentEvent.action, ConsentEvent.lists, ConsentEvent.note)
            .join(Subscriber, Subscriber.id == ConsentEvent.subscriber_id)
            .where(Subscriber.email_key == email_key)
            .order_by(ConsentEvent.id)
        ).all()
        db.session.remove()
        return [tuple(row) for row in rows]


def _import(runner, tmp_path, text: str, *options: str):
    source = tmp_path / "people.csv"
    source.write_text(text, encoding="utf-8")
    return runner.invoke(args=["subscribers", "import", str(source), *options])


def _set_status(app, email: str, status: SubscriberStatus) -> None:
    with app.app_context():
        subscriber = services.subscriber_by_email(email)
        subscriber.status = status
        db.session.commit()


def test_people_who_left_or_were_erased_are_never_re_added(app, runner, lists, tmp_path, outbox):
    for email in ("left@example.org", "spam@example.org", "gone@example.org", "erased@example.org"):
        runner.invoke(args=["subscribers", "add", email, "--list", "events"])
    _set_status(app, "left@example.org", SubscriberStatus.UNSUBSCRIBED)
    _set_status(app, "spam@example.org", SubscriberStatus.COMPLAINED)
    _set_status(app, "gone@example.org", SubscriberStatus.BOUNCED)
    with app.app_context():
        services.erase_subscriber(services.subscriber_by_email("erased@example.org"))
        db.session.commit()
    before = {key: _events(app, key) for key in _people(app)}

    result = _import(
        runner,
        tmp_path,
        "email,name\n"
        "new@example.org,New\n"
        "LEFT@example.org,Left\n"
        "spam@EXAMPLE.org,Spam\n"
        "Gone@example.org,Gone\n"
        "Erased@Example.org,Erased\n",
        "--list",
        "digest",
        "--consent-note",
        "old list",
    )
    assert result.exit_code == 0, result.output
    assert "5 rows: added 1, updated 0, unchanged 0, merged duplicates 0, rejected 4." in (
        result.output
    )
    lines = result.output.splitlines()
    assert [line for line in lines if line.startswith("  line ")] == [
        f"  line 3: this person unsubscribed on {_today()}; not re-added",
        f"  line 4: this person reported our mail as spam on {_today()}; not re-added",
        f"  line 5: this person bounced on {_today()}; not re-added",
        "  line 6: this address was erased at the person's request; only they can subscribe again",
    ]
    people = _people(app)
    assert set(people) == {
        "new@example.org", "left@example.org", "spam@example.org", "gone@example.org",
    }  # fmt: skip
    for key, status in (
        ("left@example.org", SubscriberStatus.UNSUBSCRIBED),
        ("spam@example.org", SubscriberStatus.COMPLAINED),
        ("gone@example.org", SubscriberStatus.BOUNCED),
    ):
        assert people[key][1] == status
        assert people[key][2] == ""  # not even their name was filled in
        assert people[key][4] == ["events"]  # nor a list added
        assert _events(app, key) == before[key]  # nor any consent recorded
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Suppression.id))) == 1
    assert outbox.received == []


def _today() -> str:
    from newsletter.timeutil import utcnow

    return utcnow().date().isoformat()


def test_duplicates_differing_in_case_are_merged_across_batches(app, lists):
    rows = ["email,name"]
    for n in range(30):
        rows.append(f"Person{n}@Example.org,Person {n}")
    for n in range(30):  # the same people again, in other cases, in later batches
        rows.append(f"{'PERSON' if n % 2 else 'person'}{n}@EXAMPLE.ORG,Other {n}")
    source = io.BytesIO(("\n".join(rows) + "\n").encode())
    with app.app_context():
        report = import_subscribers(
            source, lists=resolve_lists(["digest"], public_only=False), consent_note="x",
            batch_size=7,
        )  # fmt: skip
        db.session.commit()
    assert (report.added, report.merged, report.updated, report.unchanged) == (30, 30, 0, 0)
    people = _people(app)
    assert len(people) == 30
    assert people["person7@example.org"][:3] == (
        "Person7@example.org",  # the first row's spelling (the domain lower-cased)
        SubscriberStatus.ACTIVE,
        "Person 7",  # the first row's name
    )


def test_existing_people_are_completed_never_overwritten(app, runner, lists, tmp_path):
    runner.invoke(
        args=["subscribers", "add", "ann@example.org", "--name", "Ann", "--list", "events"]
    )
    runner.invoke(args=["subscribers", "add", "bob@example.org", "--list", "digest"])
    runner.invoke(args=["subscribers", "add", "cy@example.org", "--name", "Cy", "--list", "digest"])
    result = _import(
        runner,
        tmp_path,
        "email,name,organisation\n"
        "ANN@example.org,Someone Else,Think Tank\n"  # name kept, organisation filled, list added
        "bob@example.org,Bob,\n"  # name filled
        "cy@example.org,Cyril,\n",  # nothing new: unchanged
        "--list",
        "digest",
        "--consent-note",
        "again",
    )
    assert "3 rows: added 0, updated 2, unchanged 1, merged duplicates 0, rejected 0." in (
        result.output
    )
    people = _people(app)
    assert people["ann@example.org"][2:] == ("Ann", "Think Tank", ["digest", "events"])
    assert people["bob@example.org"][2:] == ("Bob", "", ["digest"])
    assert people["cy@example.org"][2:] == ("Cy", "", ["digest"])
    # No new consent for people already active: only their original record.
    assert [action for action, *_ in _events(app, "ann@example.org")] == [ConsentAction.ADDED]


def test_pending_people_become_active_with_the_consent_note(app, client, runner, lists, tmp_path):
    from tests.subscriptions.helpers import subscribe

    assert subscribe(client, "pending@example.org").status_code == 302
    result = _import(
        runner, tmp_path, "email\npending@example.org\n", "--consent-note", "signed on paper"
    )
    assert "1 rows: added 0, updated 1" in result.output
    assert _people(app)["pending@example.org"][1] == SubscriberStatus.ACTIVE
    assert _events(app, "pending@example.org")[-1] == (
        ConsentAction.IMPORTED,
        "digest",
        "signed on paper",
    )


def test_a_bad_line_after_whole_batches_imports_nothing(app, runner, lists, tmp_path):
    runner.invoke(args=["subscribers", "add", "kept@example.org"])
    source = tmp_path / "people.csv"
    with source.open("wb") as handle:
        handle.write(b"email,name\nkept@example.org,Filled In\n")
        for n in range(12_000):  # more than two batches are written before the bad line
            handle.write(f"person{n}@example.org,Person {n}\n".encode())
        handle.write(b"late@example.org,\xff\xfe\n")
    result = runner.invoke(args=["subscribers", "import", str(source), "--consent-note", "x"])
    assert result.exit_code == 1
    assert "line 12003: the file is not UTF-8" in result.output
    assert "Nothing was imported." in result.output
    people = _people(app)
    assert list(people) == ["kept@example.org"]
    assert people["kept@example.org"][2] == ""  # the name from the file was not kept either
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Membership.subscriber_id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(ConsentEvent.id))) == 1


@pytest.mark.parametrize("how", [["--consent-note", "x"], ["--send-confirmation"]])
def test_dry_run_reports_and_stores_and_sends_nothing(app, runner, lists, tmp_path, outbox, how):
    runner.invoke(args=["subscribers", "add", "old@example.org"])
    result = _import(
        runner,
        tmp_path,
        "email,name\nnew@example.org,New\nold@example.org,Old\nbad,\nNEW@example.org,\n",
        *how,
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert (
        "Dry run, nothing stored: 4 rows: added 1, updated 1, unchanged 0, merged duplicates 1, "
        "rejected 1." in result.output
    )
    assert "  line 4: That is not a valid email address" in result.output
    people = _people(app)
    assert list(people) == ["old@example.org"]
    assert people["old@example.org"][2] == ""
    with app.app_context():
        from newsletter.mailing.models import OutgoingMail

        assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0
    assert outbox.received == []


def test_confirmations_are_queued_in_bulk_and_each_link_works(
    app, client, runner, lists, tmp_path, outbox
):
    runner.invoke(args=["subscribers", "add", "active@example.org"])
    people = [f"reader{n}@example.org" for n in range(25)]
    result = _import(
        runner,
        tmp_path,
        "email,name\n"
        + "".join(f"{email},Reader {n}\n" for n, email in enumerate(people))
        + "active@example.org,\n",
        "--send-confirmation",
        "--list",
        "events",
    )
    assert result.exit_code == 0, result.output
    assert "26 rows: added 25, updated 1" in result.output  # the active one joins events
    received = outbox.wait_for(25)
    assert sorted(message.to for message in received) == sorted(people)
    by_address = {message.to: message for message in received}
    text = by_address["reader3@example.org"].message.get_body(("plain",)).get_content()
    assert "Hello," in text  # a neutral greeting: nothing from the file goes to an
    assert "Reader 3" not in text  # address not confirmed yet
    links = {confirm_link(message) for message in received}
    assert len(links) == 25  # each person their own link
    stored = _people(app)
    assert {stored[email][1] for email in people} == {SubscriberStatus.PENDING}
    assert _events(app, "reader0@example.org") == [
        (ConsentAction.REQUESTED, "events", "imported by staff; confirmation asked")
    ]
    with app.app_context():
        ids = db.session.scalars(
            sa.select(Subscriber.public_id).where(Subscriber.email_key.in_(people))
        ).all()
        assert all(isinstance(public_id, uuid.UUID) and public_id.version == 4 for public_id in ids)
        assert len(set(ids)) == 25
        sent_at = db.session.scalars(
            sa.select(Subscriber.confirmation_sent_at).where(Subscriber.email_key.in_(people))
        ).all()
        assert None not in sent_at  # a repeat request within the window sends nothing more

    link = local(confirm_link(by_address["reader7@example.org"]))
    page = client.get(link)
    assert client.post(link, data=form_values(page.get_data(as_text=True))).status_code == 200
    assert _people(app)["reader7@example.org"][1] == SubscriberStatus.ACTIVE
    assert outbox.wait_for(26)[-1].to == "reader7@example.org"  # the welcome


def test_progress_is_reported_after_each_batch(app, lists):
    source = io.BytesIO(("email\n" + "".join(f"p{n}@example.org\n" for n in range(35))).encode())
    seen: list[int] = []
    with app.app_context():
        import_subscribers(
            source,
            lists=resolve_lists(["digest"], public_only=False),
            consent_note="x",
            on_progress=seen.append,
            batch_size=10,
        )
        db.session.rollback()
    assert seen == [10, 20, 30, 35]
