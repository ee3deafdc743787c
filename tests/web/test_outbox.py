"""The embedded default: with no mail server, mail lands in a local outbox staff can read."""

from __future__ import annotations

import pytest

from tests.conftest import form_values
from tests.subscriptions.helpers import subscribe

pytestmark = pytest.mark.app_config(MAIL_SERVER=None)


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)


def test_confirmation_lands_in_the_outbox_and_its_link_works(app, client, outbox, staff_login):
    subscribe(client, "newcomer@example.org", name="New Comer")
    assert outbox.received == []  # nothing went over SMTP
    staff_login("admin@example.org", "admin")  # as make run's instructions say

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
def test_unknown_or_crafted_keys_are_404(client, staff_login, key):
    staff_login()
    assert client.get(f"/outbox/{key}").status_code == 404


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "203.0.113.5"])
def test_only_staff_may_read_it_wherever_they_connect_from(client, address):
    """Behind a reverse proxy every client seems to come from this machine: the outbox
    holds everyone's personal links, so even a local client must log in."""
    subscribe(client, "someone@example.org")
    environ = {"REMOTE_ADDR": address}
    listing = client.get("/outbox/", environ_base=environ)
    assert listing.status_code == 302
    assert listing.headers["Location"].startswith("/staff/login?next=/outbox/")
    assert "someone@example.org" not in listing.get_data(as_text=True)
    token = form_values(client.get("/subscribe").get_data(as_text=True))["csrf_token"]
    cleared = client.post("/outbox/clear", data={"csrf_token": token}, environ_base=environ)
    assert cleared.status_code == 401


@pytest.mark.app_config(MAIL_SERVER="127.0.0.1")
def test_no_outbox_when_a_server_is_configured(client):
    assert client.get("/outbox/").status_code == 404
