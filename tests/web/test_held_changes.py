"""An anonymous form post cannot rewrite what we hold about someone we know: their name,
organisation and lists change only once they confirm from their own mailbox."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber
from tests.conftest import form_values
from tests.subscriptions.helpers import confirm, confirm_link, subscribe, text_of

pytestmark = pytest.mark.app_config(CONFIRM_RESEND_MINUTES=0)


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)
    make_list("events", "Event invitations")


def _held(app, email: str) -> tuple[str, str, list[str], str]:
    with app.app_context():
        subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == email))
        lists = sorted(m.mailing_list.slug for m in subscriber.memberships)
        return subscriber.name, subscriber.organisation, lists, subscriber.status.value


def test_a_post_for_a_pending_subscriber_is_held_until_they_confirm(app, client, outbox):
    subscribe(client, "owner@example.org", name="Real Name", organisation="Real Org")
    outbox.wait_for(1)
    stranger = app.test_client()
    subscribe(
        stranger, "owner@example.org", name="Mr Prank", organisation="Prank Inc", lists="events"
    )
    assert _held(app, "owner@example.org") == ("Real Name", "Real Org", ["digest"], "pending")

    second = outbox.wait_for(2)[1]
    assert "Hello," in text_of(second)  # never greeted with a stranger's words
    assert "Mr Prank" not in text_of(second)
    assert "Event invitations" in text_of(second)  # what confirming would do is said

    page = client.get(confirm_link(second)).get_data(as_text=True)
    assert "Event invitations" in page
    assert confirm(client, confirm_link(second)).status_code == 200
    # The owner confirmed the request the email described: now it applies.
    assert _held(app, "owner@example.org") == ("Mr Prank", "Prank Inc", ["events"], "active")


def test_a_post_for_a_former_subscriber_changes_nothing_before_confirmation(app, client, outbox):
    subscribe(client, "former@example.org", name="Former Reader", lists=["digest", "events"])
    confirm(client, confirm_link(outbox.wait_for(1)[0]))
    welcome = outbox.wait_for(2)[1]
    unsubscribe = text_of(welcome).split("https://news.example.org/unsubscribe/", 1)[1].split()[0]
    client.post(f"/unsubscribe/{unsubscribe}", data={"List-Unsubscribe": "One-Click"})
    assert _held(app, "former@example.org")[3] == "unsubscribed"

    stranger = app.test_client()
    subscribe(stranger, "Former@Example.org", name="Someone Else", organisation="Other")
    assert _held(app, "former@example.org") == (
        "Former Reader",
        "",
        ["digest", "events"],
        "pending",
    )
    with app.app_context():
        assert db.session.scalar(sa.select(Subscriber.email)) == "former@example.org"
    mail = outbox.wait_for(3)[2]
    assert "Someone Else" not in text_of(mail)
    link = confirm_link(mail)
    values = form_values(client.get(link).get_data(as_text=True))
    assert client.post(link, data=values).status_code == 200
    assert _held(app, "former@example.org") == ("Someone Else", "Other", ["digest"], "active")
