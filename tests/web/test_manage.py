"""Leaving in one click (RFC 8058), coming back, preferences and erasure."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from newsletter.extensions import db
from newsletter.mailing.models import OutgoingMail
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from newsletter.subscriptions.services import subscriber_lists
from tests.conftest import find_link, form_values, local
from tests.subscriptions.helpers import subscribe_and_confirm, text_of


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)
    make_list("events", "Event invitations")
    make_list("board", "Board papers", public=False)


@pytest.fixture
def welcome(client, outbox):
    return subscribe_and_confirm(client, outbox, "reader@example.org", name="Ada", lists=["digest"])


def _unsubscribe_path(welcome) -> str:
    return local(welcome.message["List-Unsubscribe"].split(",")[0].strip(" <>"))


def _preferences_path(welcome) -> str:
    return local(find_link(text_of(welcome), "/preferences/"))


def _status(app: Flask, email: str = "reader@example.org") -> SubscriberStatus | None:
    with app.app_context():
        subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == email))
        return subscriber.status if subscriber else None


def _lists_of(app: Flask, email: str = "reader@example.org") -> list[str]:
    with app.app_context():
        subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == email))
        return [lst.slug for lst in subscriber_lists(subscriber)]


def test_get_shows_one_button_and_changes_nothing(app, client, welcome):
    page = client.get(_unsubscribe_path(welcome))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<button") == 1
    assert "reader@example.org" in html
    assert _status(app) == SubscriberStatus.ACTIVE


@pytest.mark.parametrize(
    "how",
    [
        {"data": {"List-Unsubscribe": "One-Click"}},
        {"data": {"List-Unsubscribe": "One-Click"}, "content_type": "multipart/form-data"},
        {"data": b"List-Unsubscribe=One-Click", "content_type": "text/plain"},
        {"data": b"List-Unsubscribe=One-Click", "content_type": "application/octet-stream"},
    ],
    ids=["urlencoded", "multipart", "raw-text", "raw-octets"],
)
def test_one_click_post_in_every_form(app, welcome, how):
    provider = app.test_client()  # a mail provider: no cookie, no CSRF token
    path = _unsubscribe_path(welcome)
    first = provider.post(path, **how)
    assert first.status_code == 200
    assert "Location" not in first.headers
    assert "You are unsubscribed" in first.get_data(as_text=True)
    assert _status(app) == SubscriberStatus.UNSUBSCRIBED
    second = provider.post(path, **how)
    assert second.status_code == 200
    assert _status(app) == SubscriberStatus.UNSUBSCRIBED
    with app.app_context():
        unsubscribed = db.session.scalars(
            sa.select(ConsentEvent).where(ConsentEvent.action == ConsentAction.UNSUBSCRIBED)
        ).all()
        assert len(unsubscribed) == 1


def test_the_page_button_unsubscribes_too(app, client, welcome):
    path = _unsubscribe_path(welcome)
    page = client.get(path)
    response = client.post(path, data=form_values(page.get_data(as_text=True)))
    assert response.status_code == 200
    assert _status(app) == SubscriberStatus.UNSUBSCRIBED


def test_post_without_one_click_body_is_refused(app, welcome):
    response = app.test_client().post(_unsubscribe_path(welcome))
    assert response.status_code == 400
    assert "List-Unsubscribe=One-Click" in response.get_data(as_text=True)
    assert _status(app) == SubscriberStatus.ACTIVE


@pytest.mark.parametrize("path", ["/unsubscribe/forged.token", "/unsubscribe/x"])
def test_forged_unsubscribe_token_is_refused(app, welcome, path):
    response = app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400
    assert "damaged" in response.get_data(as_text=True)
    assert _status(app) == SubscriberStatus.ACTIVE


def test_preferences_token_does_not_unsubscribe(app, welcome):
    token = _preferences_path(welcome).rsplit("/", 1)[1]
    response = app.test_client().post(
        f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 400
    assert _status(app) == SubscriberStatus.ACTIVE


def test_unsubscribed_reader_can_come_back(app, client, welcome):
    response = client.post(_unsubscribe_path(welcome), data={"List-Unsubscribe": "One-Click"})
    values = form_values(response.get_data(as_text=True))
    again = client.post(_unsubscribe_path(welcome) + "/resubscribe", data=values)
    assert again.status_code == 200
    assert "Welcome back" in again.get_data(as_text=True)
    assert _status(app) == SubscriberStatus.ACTIVE
    assert _lists_of(app) == ["digest"]


def test_preferences_change_name_and_lists(app, client, welcome):
    path = _preferences_path(welcome)
    page = client.get(path)
    assert page.status_code == 200
    values = form_values(page.get_data(as_text=True))
    assert values["name"] == "Ada"
    assert values["lists"] == "digest"
    values.update(
        {"name": "Ada L.", "organisation": "Analytical Society", "lists": ["digest", "events"]}
    )
    saved = client.post(path, data=values)
    assert saved.status_code == 302
    assert "Your preferences are saved" in client.get(path).get_data(as_text=True)
    assert _lists_of(app) == ["digest", "events"]
    with app.app_context():
        subscriber = db.session.scalar(sa.select(Subscriber))
        assert (subscriber.name, subscriber.organisation) == ("Ada L.", "Analytical Society")


def test_preferences_keep_private_lists(app, client, welcome):
    with app.app_context():
        from newsletter.subscriptions.lists import list_by_slug
        from newsletter.subscriptions.services import replace_memberships

        subscriber = db.session.scalar(sa.select(Subscriber))
        replace_memberships(subscriber, [*subscriber_lists(subscriber), list_by_slug("board")])
        db.session.commit()
    path = _preferences_path(welcome)
    page = client.get(path)
    assert "Board papers" not in page.get_data(as_text=True)
    values = form_values(page.get_data(as_text=True))
    values["lists"] = ["events"]
    client.post(path, data=values)
    assert _lists_of(app) == ["board", "events"]


def test_preferences_leave_every_list(app, client, welcome):
    path = _preferences_path(welcome)
    values = form_values(client.get(path).get_data(as_text=True))
    values.pop("lists")
    assert client.post(path, data=values).status_code == 302
    assert _status(app) == SubscriberStatus.UNSUBSCRIBED
    # Choosing a list again on the same page subscribes again.
    values["lists"] = ["events"]
    client.post(path, data=values)
    assert _status(app) == SubscriberStatus.ACTIVE
    assert _lists_of(app) == ["events"]


def test_preferences_refuse_bad_input(app, client, welcome):
    path = _preferences_path(welcome)
    values = form_values(client.get(path).get_data(as_text=True))
    values["name"] = "Ada\nBcc: x@example.org"
    response = client.post(path, data=values)
    assert response.status_code == 400
    assert "must be on one line" in response.get_data(as_text=True)
    values.update({"name": "Ada", "lists": ["board"]})
    response = client.post(path, data=values)
    assert response.status_code == 400
    assert _lists_of(app) == ["digest"]


def test_erasure_deletes_personal_data_and_keeps_a_hash(app, client, welcome, runner, tmp_path):
    path = _preferences_path(welcome)
    page = client.get(path + "/erase")
    values = form_values(page.get_data(as_text=True))
    refused = client.post(path + "/erase", data=values)  # the box is not ticked
    assert refused.status_code == 400
    assert _status(app) == SubscriberStatus.ACTIVE

    values["sure"] = "y"
    erased = client.post(path + "/erase", data=values)
    assert erased.status_code == 200
    assert "Your data is erased" in erased.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(ConsentEvent.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(OutgoingMail.id))) == 0
        (suppression,) = db.session.scalars(sa.select(Suppression)).all()
        assert "reader" not in suppression.address_hash
        # Nothing in the database names the address any more.
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                assert "reader@example.org" not in str(row).lower()

    # The links now say so, without an error.
    assert client.get(path).status_code == 410
    assert (
        app.test_client()
        .post(_unsubscribe_path(welcome), data={"List-Unsubscribe": "One-Click"})
        .status_code
        == 200
    )

    # Staff cannot import the address again; the person can subscribe again themselves.
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email\nReader@example.org\n")
    result = runner.invoke(args=["subscribers", "import", str(csv_file), "--consent-note", "x"])
    assert "line 2: this address was erased" in result.output
    assert _status(app) is None
