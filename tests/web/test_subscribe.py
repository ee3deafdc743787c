"""Subscribing with double opt-in, through the HTTP layer, with a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import sqlalchemy as sa
from flask import Flask

from newsletter.extensions import db
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    ConsentText,
    Subscriber,
    SubscriberStatus,
)
from newsletter.tokens import Purpose, make_token
from tests.conftest import form_values, local
from tests.subscriptions.helpers import (
    confirm,
    confirm_link,
    html_of,
    subscribe,
    subscribe_and_confirm,
    text_of,
)
from tests.waiting import all_mail_attempted

UA = "Mozilla/5.0 (test browser)"


@pytest.fixture(autouse=True)
def _lists(make_list):
    make_list("digest", "Dialogue digest", default=True)
    make_list("events", "Event invitations")
    make_list("board", "Board papers", public=False)


def _subscriber(app: Flask, email: str) -> Subscriber | None:
    with app.app_context():
        found = db.session.scalar(
            sa.select(Subscriber).where(Subscriber.email_key == email.lower())
        )
        if found is not None:
            db.session.expunge(found)
        return found


def _events(app: Flask, email: str) -> list[ConsentEvent]:
    with app.app_context():
        subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == email))
        assert subscriber is not None
        events = list(
            db.session.scalars(
                sa.select(ConsentEvent)
                .where(ConsentEvent.subscriber_id == subscriber.id)
                .order_by(ConsentEvent.id)
            )
        )
        db.session.expunge_all()
        return events


def _age_last_confirmation(app: Flask, email: str, minutes: int = 11) -> None:
    """Pretend the last confirmation mail went out ``minutes`` ago."""
    with app.app_context():
        subscriber = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == email))
        subscriber.confirmation_sent_at -= timedelta(minutes=minutes)
        db.session.commit()


def test_newcomer_subscribes_confirms_and_is_welcomed(app, client, outbox):
    response = subscribe(
        client,
        "Reader@Example.ORG",
        name="Ada Reader",
        organisation="Institute",
        lists=["digest", "events"],
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/subscribe/sent"
    assert "Check your inbox" in client.get("/subscribe/sent").get_data(as_text=True)

    (confirmation,) = outbox.wait_for(1)
    message = confirmation.message
    assert confirmation.rcpt_tos == ["Reader@example.org"]
    assert confirmation.mail_from == "digest@news.example.org"
    assert message["To"] == "Reader@example.org"  # not confirmed yet: no name anywhere
    assert message["From"] == "Dialogue Digest <digest@news.example.org>"
    assert message["Subject"] == "Please confirm your subscription to Dialogue Digest"
    assert message["Message-ID"].endswith("@news.example.org>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"]
    link = confirm_link(confirmation)
    assert link in html_of(confirmation).replace("https://news.example.org", "")
    assert "Dialogue digest, Event invitations" in text_of(confirmation)
    assert _subscriber(app, "reader@example.org").status == SubscriberStatus.PENDING

    # The GET shows one button and changes nothing.
    page = client.get(link, headers={"User-Agent": UA})
    assert page.status_code == 200
    assert "Confirm</button>" in page.get_data(as_text=True)
    assert _subscriber(app, "reader@example.org").status == SubscriberStatus.PENDING
    all_mail_attempted(app)
    assert len(outbox.received) == 1

    confirmed = client.post(
        link,
        data=form_values(page.get_data(as_text=True)),
        headers={"User-Agent": UA},
        environ_base={"REMOTE_ADDR": "198.51.100.4"},
    )
    assert confirmed.status_code == 200
    assert "you are subscribed" in confirmed.get_data(as_text=True)
    subscriber = _subscriber(app, "reader@example.org")
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert subscriber.name == "Ada Reader"
    assert subscriber.organisation == "Institute"

    requested, confirmed_event = _events(app, "reader@example.org")
    assert requested.action == ConsentAction.REQUESTED
    assert requested.ip == "203.0.113.7"
    assert requested.lists == "digest,events"
    assert confirmed_event.action == ConsentAction.CONFIRMED
    assert confirmed_event.ip == "198.51.100.4"
    assert confirmed_event.user_agent == UA
    assert confirmed_event.consent_version == requested.consent_version
    with app.app_context():
        consent = db.session.get(ConsentText, requested.consent_version)
        assert consent.text == app.config["CONSENT_TEXT"]

    welcome = outbox.wait_for(2)[1].message
    assert welcome["Subject"] == "Welcome to Dialogue Digest"
    unsubscribe_url, mailto = [part.strip(" <>") for part in welcome["List-Unsubscribe"].split(",")]
    assert unsubscribe_url.startswith("https://news.example.org/unsubscribe/")
    assert mailto.startswith("mailto:unsubscribe@news.example.org?subject=unsubscribe%20")
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert welcome["List-Id"] == "Dialogue Digest <newsletter.news.example.org>"
    assert unsubscribe_url in text_of(outbox.received[1])

    # One click from the mail provider: no cookie, no CSRF token, no redirect.
    provider = app.test_client()
    response = provider.post(local(unsubscribe_url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert _subscriber(app, "reader@example.org").status == SubscriberStatus.UNSUBSCRIBED


def test_confirmation_carries_none_of_the_form_text_and_the_welcome_decodes(app, client, outbox):
    """Until the address is confirmed, nothing typed on the form reaches mail sent to it
    (the name field could carry anyone's words to anyone); once confirmed, the welcome
    greets by name, 7-bit clean."""
    words = "Zoë “Q” Ünal, claim your prize at evil.example"
    welcome = subscribe_and_confirm(client, outbox, "zoe@example.org", name=words)
    confirmation = outbox.received[0]
    assert confirmation.message["To"] == "zoe@example.org"
    for part in (text_of(confirmation), html_of(confirmation), str(confirmation.message)):
        assert "Zoë" not in part
        assert "evil.example" not in part
    assert "Hello," in text_of(confirmation)
    for received in (confirmation, welcome):
        assert all(byte < 128 for byte in received.data)
        lines = received.data.split(b"\r\n")
        assert all(
            len(line) <= 78 for line in lines if b"<https:" not in line and b"<mailto:" not in line
        )
        assert all(len(line) <= 998 for line in lines)  # a long link stays whole
    to = email.message_from_bytes(welcome.data, policy=email.policy.compat32)["To"]
    assert str(make_header(decode_header(to))) == f"{words} <zoe@example.org>"
    assert f"Dear {words}," in text_of(welcome)
    assert "Dear Zoë “Q” Ünal, claim your prize at evil.example," in html_of(welcome)


def test_every_state_gets_the_same_answer(app, client, outbox):
    subscribe(client, "pending@example.org")
    subscribe_and_confirm(client, outbox, "active@example.org")
    subscribe_and_confirm(client, outbox, "left@example.org")
    with app.app_context():
        subscriber = db.session.scalar(
            sa.select(Subscriber).where(Subscriber.email_key == "left@example.org")
        )
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        db.session.commit()

    answers = set()
    for address in (
        "new@example.org",
        "pending@example.org",
        "active@example.org",
        "left@example.org",
    ):
        response = subscribe(client, address)
        follow = client.get(response.headers["Location"])
        answers.add(
            (response.status_code, response.headers["Location"], follow.get_data(as_text=True))
        )
    assert len(answers) == 1


def test_confirmation_is_sent_again_at_most_every_ten_minutes(app, client, outbox):
    subscribe(client, "again@example.org")
    subscribe(client, "again@example.org")
    all_mail_attempted(app)
    assert len(outbox.received) == 1

    _age_last_confirmation(app, "again@example.org", minutes=10)
    subscribe(client, "again@example.org")
    second = outbox.wait_for(2)[1]
    assert second.to == "again@example.org"
    # Both links work: the second does not need the first.
    assert confirm(client, confirm_link(second)).status_code == 200


def test_active_subscriber_gets_a_note_and_nothing_changes(app, client, outbox):
    subscribe_and_confirm(client, outbox, "kept@example.org", name="Kept Name", lists=["digest"])
    subscribe(client, "kept@example.org", name="Attacker", lists=["events"])
    all_mail_attempted(app)
    assert len(outbox.received) == 2  # the note, too, waits ten minutes
    _age_last_confirmation(app, "kept@example.org")
    subscribe(client, "kept@example.org", name="Attacker", lists=["events"])
    note = outbox.wait_for(3)[2]
    assert note.message["Subject"] == "You are already subscribed to Dialogue Digest"
    assert "/preferences/" in text_of(note)
    subscriber = _subscriber(app, "kept@example.org")
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert subscriber.name == "Kept Name"
    with app.app_context():
        from newsletter.subscriptions.services import subscriber_lists

        assert [lst.slug for lst in subscriber_lists(db.session.merge(subscriber))] == ["digest"]


def test_honeypot_answers_as_usual_and_does_nothing(app, client, outbox):
    response = subscribe(client, "bot@example.org", website="http://spam.example")
    assert response.status_code == 302
    assert response.headers["Location"] == "/subscribe/sent"
    all_mail_attempted(app)
    assert outbox.received == []
    assert _subscriber(app, "bot@example.org") is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "not a valid email address"),
        ({"email": ""}, "Please enter an email address."),
        ({"email": "a" * 250 + "@example.org"}, "254 characters"),
        ({"email": "x@example.org\r\nBcc: victim@example.org"}, "line break"),
        ({"name": "Eve\r\nBcc: victim@example.org"}, "must be on one line"),
        ({"name": "N" * 201}, "200 characters"),
        ({"organisation": "Org\x07"}, "control character"),
        ({"lists": ["nope"]}, "not a valid choice"),
        ({"lists": ["board"]}, "not a valid choice"),
    ],
)
def test_bad_input_gets_a_form_message_and_writes_nothing(app, client, outbox, fields, message):
    values = {"email": "person@example.org", **fields}
    email = values.pop("email")
    response = subscribe(client, email, **values)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    all_mail_attempted(app)
    assert outbox.received == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 0


def test_stale_consent_version_is_refused(app, client, outbox):
    response = subscribe(client, "person@example.org", consent_version="forged")
    assert response.status_code == 400
    assert "out of date" in response.get_data(as_text=True)


def test_form_without_csrf_token_is_refused_with_a_reason(app, client):
    response = client.post("/subscribe", data={"email": "x@example.org"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


@pytest.mark.app_config(SUBSCRIBE_LIMIT_PER_IP="3 per minute")
def test_rate_limit_per_client_ip(app, client, outbox):
    codes = [subscribe(client, f"p{n}@example.org").status_code for n in range(4)]
    assert codes == [302, 302, 302, 429]
    page = subscribe(client, "p9@example.org")
    assert "Too many attempts" in page.get_data(as_text=True)
    # Another client is not affected.
    other = subscribe(client, "q@example.org", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 302


def test_rate_limit_per_address_across_clients(app, client, outbox):
    limit = int(app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"].split()[0])
    codes = [
        subscribe(
            client,
            "Target@Example.org" if n % 2 else "target@example.org",
            environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
        ).status_code
        for n in range(limit + 1)
    ]
    assert codes == [302] * limit + [429]
    assert len(outbox.wait_for(1)) == 1


def _expired_confirm_token(app: Flask, email: str, monkeypatch: pytest.MonkeyPatch) -> str:
    subscriber = _subscriber(app, email)
    past = time.time() - 49 * 3600
    with app.app_context(), monkeypatch.context() as patch:
        patch.setattr("itsdangerous.timed.time.time", lambda: past)
        return make_token(Purpose.CONFIRM, subscriber.public_id.hex)


def test_expired_link_offers_a_new_one(app, client, outbox, monkeypatch):
    subscribe(client, "late@example.org")
    outbox.wait_for(1)
    token = _expired_confirm_token(app, "late@example.org", monkeypatch)

    page = client.get(f"/confirm/{token}")
    assert page.status_code == 400
    assert "This link has expired" in page.get_data(as_text=True)
    assert (
        client.post(f"/confirm/{token}", data=form_values(page.get_data(as_text=True))).status_code
        == 400
    )
    assert _subscriber(app, "late@example.org").status == SubscriberStatus.PENDING

    _age_last_confirmation(app, "late@example.org")
    resent = client.post(f"/confirm/{token}/resend", data=form_values(page.get_data(as_text=True)))
    assert resent.status_code == 302
    fresh = outbox.wait_for(2)[1]
    assert confirm(client, confirm_link(fresh)).status_code == 200
    assert _subscriber(app, "late@example.org").status == SubscriberStatus.ACTIVE


@pytest.mark.parametrize("mangle", ["flip", "other-purpose", "garbage"])
def test_tampered_confirm_link_gets_a_clear_page(app, client, outbox, mangle):
    subscribe(client, "t@example.org")
    link = confirm_link(outbox.wait_for(1)[0])
    token = link.rsplit("/", 1)[1]
    if mangle == "flip":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif mangle == "other-purpose":
        with app.app_context():
            token = make_token(Purpose.UNSUBSCRIBE, _subscriber(app, "t@example.org").public_id.hex)
    else:
        token = "not.a.token"
    page = client.get(f"/confirm/{token}")
    assert page.status_code == 400
    assert "This link does not work" in page.get_data(as_text=True)
    assert _subscriber(app, "t@example.org").status == SubscriberStatus.PENDING


def test_old_confirm_link_does_not_undo_an_unsubscription(app, client, outbox):
    welcome = subscribe_and_confirm(client, outbox, "gone@example.org")
    link = confirm_link(outbox.received[0])
    unsubscribe = welcome.message["List-Unsubscribe"].split(",")[0].strip(" <>")
    client.post(local(unsubscribe), data={"List-Unsubscribe": "One-Click"})
    assert client.get(link).status_code == 410
    page = client.get("/subscribe")
    token = form_values(page.get_data(as_text=True))["csrf_token"]
    assert client.post(link, data={"csrf_token": token}).status_code == 410
    assert _subscriber(app, "gone@example.org").status == SubscriberStatus.UNSUBSCRIBED


def test_confirming_twice_is_harmless(app, client, outbox):
    subscribe(client, "twice@example.org")
    link = confirm_link(outbox.wait_for(1)[0])
    page = client.get(link)
    values = form_values(page.get_data(as_text=True))
    assert client.post(link, data=values).status_code == 200
    again = client.post(link, data=values)
    assert again.status_code == 200
    assert "you are subscribed" in again.get_data(as_text=True)
    assert "already confirmed" in client.get(link).get_data(as_text=True)
    all_mail_attempted(app)
    assert [m.message["Subject"] for m in outbox.received] == [
        "Please confirm your subscription to Dialogue Digest",
        "Welcome to Dialogue Digest",
    ]


def test_mail_leaves_only_after_the_commit(app, outbox):
    """A request that fails after queueing mail sends nothing."""
    from newsletter.subscriptions.services import (
        Origin,
        SubscribeRequest,
        current_consent,
        request_subscription,
    )

    with app.test_request_context():
        request_subscription(
            SubscribeRequest(email="rolled@example.org", consent_version=current_consent()[0]),
            Origin(),
        )
        db.session.rollback()
    all_mail_attempted(app)
    assert outbox.received == []
    assert _subscriber(app, "rolled@example.org") is None
