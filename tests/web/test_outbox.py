"""The embedded default: with no mail server, mail lands in a local outbox staff can read."""

from __future__ import annotations

import pytest

from tests.subscriptions.helpers import subscribe

pytestmark = pytest.mark.app_config(MAIL_SERVER=None)


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)


def test_confirmation_lands_in_the_outbox_and_its_link_works(app, client, outbox):
    subscribe(client, "newcomer@example.org", name="New Comer")
    assert outbox.received == []  # nothing went over SMTP

    listing = client.get("/outbox/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert "newcomer@example.org" in html
    assert "Please confirm your subscription to Dialogue Digest" in html
    key = html.split('href="/outbox/', 2)[1].split('"', 1)[0]

    message = client.get(f"/outbox/{key}").get_data(as_text=True)
    assert "Return-Path" in message
    assert "Delivered-To" in message
    assert 'href="https://news.example.org/confirm/' in message  # the text part, linked

    frame = client.get(f"/outbox/{key}/html")
    assert frame.status_code == 200
    assert frame.headers["Content-Security-Policy"].startswith("sandbox")
    assert '<base target="_blank">' in frame.get_data(as_text=True)

    raw = client.get(f"/outbox/{key}/raw")
    assert raw.mimetype == "text/plain"
    assert b"Subject: Please confirm" in raw.data


@pytest.mark.parametrize("key", ["../secret_key", "nope", "a b"])
def test_unknown_or_crafted_keys_are_404(client, key):
    assert client.get(f"/outbox/{key}").status_code == 404


def test_only_this_machine_may_read_it(client):
    response = client.get("/outbox/", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert response.status_code == 404


@pytest.mark.app_config(MAIL_SERVER="127.0.0.1")
def test_no_outbox_when_a_server_is_configured(client):
    assert client.get("/outbox/").status_code == 404
