"""Erasure leaves nothing behind: no table, no column, no queued message and no outbox
file holds the person's address or name afterwards (only the suppression hash)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter.delivery import execution, sends
from newsletter.digests import services as digests
from newsletter.digests.models import Digest
from newsletter.extensions import db
from newsletter.mailing.models import OutgoingMail
from newsletter.sessions import services as sessions
from newsletter.subscriptions.models import Subscriber
from newsletter.tokens import Purpose, make_token
from tests.conftest import form_values
from tests.subscriptions.helpers import confirm, confirm_link, subscribe

ADDRESS = "target.person@example.org"
NAME = "Zebulon Quixote"


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)


def traces(app, *needles: str) -> list[str]:
    """Every table.column (of every table in the metadata) holding one of ``needles``."""
    found = []
    wanted = [needle.lower() for needle in needles]
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes):
                        text = value.decode("latin-1")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    if any(needle in text.lower() for needle in wanted):
                        found.append(f"{table.name}.{column}")
    return found


def outbox_traces(app, *needles: str) -> list[str]:
    root = Path(app.config["OUTBOX_DIR"])
    files = [path for path in root.rglob("*") if path.is_file()] if root.exists() else []
    return [
        path.name
        for path in files
        if any(needle.lower().encode() in path.read_bytes().lower() for needle in needles)
    ]


def _public_id(app) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(Subscriber.public_id)).hex


def _erase(app, client) -> None:
    with app.app_context():
        token = make_token(Purpose.PREFERENCES, _public_id(app))
    link = f"/preferences/{token}/erase"
    values = form_values(client.get(link).get_data(as_text=True)) | {"sure": "y"}
    assert client.post(link, data=values).status_code == 200


def _digest_to_everyone(app) -> int:
    with app.app_context():
        session = sessions.create_session(
            sessions.SessionData(series_name="Series", title="A session"), ["A point."]
        )
        digest = digests.create_from_session(session)
        db.session.flush()
        sends.start_send(digest)
        db.session.commit()
        return digest.id


@pytest.mark.app_config(CONFIRM_RESEND_MINUTES=0)
def test_erasure_reaches_answers_queued_mail_in_any_case_and_every_table(app, client, outbox):
    subscribe(client, "Target.Person@example.org", name=NAME)
    confirm(client, confirm_link(outbox.wait_for(1)[0]))
    outbox.wait_for(2)
    unsubscribe = make_token_for(app, Purpose.UNSUBSCRIBE)
    client.post(f"/unsubscribe/{unsubscribe}", data={"List-Unsubscribe": "One-Click"})

    # From now on the relay answers for a while with a refusal that quotes the address.
    outbox.reply_to_rcpt(ADDRESS, f"450 4.2.1 <{ADDRESS}>: mailbox busy, try later")
    subscribe(client, "TARGET.PERSON@EXAMPLE.ORG", name=NAME)  # queued: refused for now
    link = f"/confirm/{make_token_for(app, Purpose.CONFIRM)}"
    values = form_values(client.get(link).get_data(as_text=True))
    assert client.post(link, data=values).status_code == 200  # the welcome is queued too
    digest_id = _digest_to_everyone(app)
    execution.work_on(app, digest_id, concurrency=1)
    before = traces(app, ADDRESS, NAME)
    assert "deliveries.last_response" in before
    with app.app_context():
        queued = db.session.scalars(sa.select(OutgoingMail.recipient)).all()
    assert sorted(queued) == ["TARGET.PERSON@example.org", "Target.Person@example.org"]

    _erase(app, client)
    assert traces(app, ADDRESS, NAME) == []
    with app.app_context():
        assert db.session.get(Digest, digest_id).audience_size == 1  # the figures stay


@pytest.mark.app_config(MAIL_SERVER=None)
def test_erasure_empties_the_outbox_of_the_persons_mail(app, client):
    subscribe(client, "Target.Person@example.org", name=NAME)
    link = f"/confirm/{make_token_for(app, Purpose.CONFIRM)}"
    confirm(client, link)
    assert outbox_traces(app, ADDRESS, NAME)  # the confirmation and the welcome
    _erase(app, client)
    assert outbox_traces(app, ADDRESS, NAME) == []
    assert traces(app, ADDRESS, NAME) == []


def make_token_for(app, purpose: Purpose) -> str:
    with app.app_context():
        return make_token(purpose, _public_id(app))


@pytest.mark.app_config(CONFIRM_RESEND_MINUTES=0)
def test_erasure_by_an_admin_leaves_nothing_either(app, client, outbox, staff_login, slug, runner):
    """The staff page's erasure is the reader's own: the subscription, its history, the
    servers' answers, a report request (made with the subscribe box ticked: its source),
    the mail queue, and an export record whose search named the person."""
    from newsletter.subscriptions.models import SubscriberSource
    from tests.reports.helpers import ask

    assert ask(client, slug, ADDRESS, name=NAME, subscribe="y").status_code == 302
    outbox.wait_for(2)  # the request's verification and the subscription's confirmation
    link = f"/confirm/{make_token_for(app, Purpose.CONFIRM)}"
    confirm(client, link)
    with app.app_context():
        subscriber = db.session.scalar(sa.select(Subscriber))
        assert subscriber.source == SubscriberSource.REPORT
        subscriber_id = subscriber.id
    outbox.reply_to_rcpt(ADDRESS, f"550 5.1.1 <{ADDRESS}>: no such user here")
    execution.work_on(app, _digest_to_everyone(app), concurrency=1)
    staff_login("admin@example.org", "admin")
    assert client.get(f"/staff/subscribers.csv?q={NAME}").status_code == 200
    assert client.get(f"/staff/subscribers/{subscriber_id}/data.json").status_code == 200
    before = traces(app, ADDRESS, NAME)
    for where in (
        "deliveries.last_response",
        "report_requests.email",
        "subscriber_exports.filters",
    ):
        assert where in before

    token = staff_login.csrf_token(f"/staff/subscribers/{subscriber_id}")
    unticked = client.post(f"/staff/subscribers/{subscriber_id}/erase", data={"csrf_token": token})
    assert unticked.status_code == 400
    assert "Tick the box" in unticked.get_data(as_text=True)
    erased = client.post(
        f"/staff/subscribers/{subscriber_id}/erase", data={"csrf_token": token, "confirm": "erase"}
    )
    assert erased.status_code == 302
    assert traces(app, ADDRESS, NAME) == []
    again = runner.invoke(args=["subscribers", "add", ADDRESS])
    assert again.exit_code == 1
    assert "erased at the person's request" in again.output
