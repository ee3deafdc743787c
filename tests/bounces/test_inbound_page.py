"""The staff page of inbound mail: readers' replies kept for staff and the alerts of
receivers refusing our mail, each shown as text, marked handled, or deleted."""

from __future__ import annotations

import sqlalchemy as sa

from newsletter.bounces.models import InboundMessage, InboundOutcome
from newsletter.delivery import execution
from newsletter.extensions import db
from tests.bounces.helpers import dsn, plain

BOUNCES = "bounces.news.example.org"


def _pipe(runner, message: bytes) -> str:
    result = runner.invoke(args=["inbound", "process", "-"], input=message)
    assert result.exit_code == 0, result.output
    return result.output


def _ids(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(sa.select(InboundMessage.outcome, InboundMessage.id)).all()
        db.session.remove()
    return {outcome.value: message_id for outcome, message_id in rows}


def test_replies_and_alerts_are_shown_as_text_and_handled(
    app, runner, client, staff_login, add_subscribers, digest_id, start, outbox
):
    app.config["BOUNCE_DOMAIN"] = BOUNCES
    reader, other = add_subscribers(2)
    start(digest_id)
    execution.work_on(app, digest_id)
    copies = {received.to: received for received in outbox.wait_for(2)}
    body = "Thanks! <script>alert('x')</script> <b>bold</b>\r\n"
    message = plain(reader, "digest@news.example.org", "Re: your digest", body=body)
    assert "Kept for staff: 1" in _pipe(runner, message)
    _pipe(
        runner,
        dsn(copies[other].mail_from, other, "5.7.1",
            "550 5.7.1 Service unavailable; client host blocked using Spamhaus",
            returned=copies[other].data),
    )  # fmt: skip
    ids = _ids(app)
    reply_id, alert_id = ids["kept"], ids["bounce"]

    staff_login()
    home = client.get("/staff/").get_data(as_text=True)
    assert "Receivers refused our mail, blaming our setup (1 not handled)" in home
    assert "Replies from readers waiting to be read: 1." in home
    assert 'href="/staff/inbound"' in home

    listing = client.get("/staff/inbound").get_data(as_text=True)
    assert "Waiting: 1 reply, 1 alert." in listing
    assert reader in listing
    assert "Re: your digest" in listing
    assert "Our mail was refused" in listing

    reply = client.get(f"/staff/inbound/{reply_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;" in reply
    assert "<script>alert" not in reply
    alert = client.get(f"/staff/inbound/{alert_id}").get_data(as_text=True)
    assert "5.7.1: 550 5.7.1 Service unavailable; client host blocked using Spamhaus" in alert
    assert "Delete this reply" not in alert

    token = staff_login.csrf_token()
    response = client.post(f"/staff/inbound/{alert_id}/handled", data={"csrf_token": token})
    assert response.status_code == 302
    assert "Waiting: 1 reply, 0 alerts." in client.get("/staff/inbound").get_data(as_text=True)
    assert "Our mail was refused" in client.get("/staff/inbound?show=all").get_data(as_text=True)
    assert "blaming our setup" not in client.get("/staff/").get_data(as_text=True)
    assert (
        client.post(f"/staff/inbound/{alert_id}/delete", data={"csrf_token": token}).status_code
        == 404
    )

    confirm = client.get(f"/staff/inbound/{reply_id}/delete").get_data(as_text=True)
    assert "Delete the reply “Re: your digest”?" in confirm
    response = client.post(f"/staff/inbound/{reply_id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert reader not in client.get("/staff/inbound?show=all").get_data(as_text=True)
    assert client.get(f"/staff/inbound/{reply_id}").status_code == 404
    with app.app_context():
        row = db.session.get(InboundMessage, reply_id)
        assert (row.outcome, row.raw, row.sender_key, row.subject) == (
            InboundOutcome.DELETED, None, None, "",
        )  # fmt: skip
        db.session.remove()
    # The same reply fetched again is known by its fingerprint: not kept a second time.
    _pipe(runner, message)
    assert "Waiting: 0 replies" in client.get("/staff/inbound").get_data(as_text=True)


def test_inbound_pages_need_a_login(client):
    assert client.get("/staff/inbound").status_code == 302
    assert client.get("/staff/inbound/1").status_code == 302
