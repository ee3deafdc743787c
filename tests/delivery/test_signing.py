"""DKIM signatures that verify, and VERP return paths that name the delivery."""

from __future__ import annotations

import dkim
import pytest
import sqlalchemy as sa

from newsletter.bounces import verp
from newsletter.delivery import execution
from newsletter.delivery.models import Delivery
from newsletter.extensions import db
from tests import dkimkeys


@pytest.mark.app_config(**dkimkeys.CONFIG)
def test_dkim_signature_verifies_and_covers_the_unsubscribe_headers(
    app, add_subscribers, digest_id, start, outbox
):
    add_subscribers(2)
    start(digest_id)
    execution.work_on(app, digest_id)
    dns = dkimkeys.dns
    for received in outbox.wait_for(2):
        assert dkim.verify(received.data, dnsfunc=dns)
        signature = received.message["DKIM-Signature"]
        signed = signature.split("h=", 1)[1].split(";", 1)[0].replace(" ", "").lower().split(":")
        assert "list-unsubscribe" in signed
        assert "list-unsubscribe-post" in signed
        assert "from" in signed
        # A changed header breaks it.
        tampered = received.data.replace(
            b"List-Unsubscribe-Post: List-Unsubscribe=One-Click", b"List-Unsubscribe-Post: nothing"
        )
        assert not dkim.verify(tampered, dnsfunc=dns)


@pytest.mark.app_config(BOUNCE_DOMAIN="bounces.news.example.org")
def test_verp_return_path_names_the_delivery(app, add_subscribers, digest_id, start, outbox):
    readers = add_subscribers(3)
    start(digest_id)
    execution.work_on(app, digest_id)
    with app.app_context():
        ids = dict(
            db.session.execute(
                sa.select(__import__("newsletter").models.Subscriber.email_key, Delivery.id).join(
                    Delivery,
                    Delivery.subscriber_id == __import__("newsletter").models.Subscriber.id,
                )
            ).all()
        )
        for received in outbox.wait_for(3):
            assert received.mail_from.startswith("bounces+")
            assert received.mail_from.endswith("@bounces.news.example.org")
            assert verp.delivery_of(received.mail_from) == ids[received.to]
            assert (
                verp.delivery_of(received.mail_from.upper().replace("@BOUNCES", "@bounces"))
                == ids[received.to]
            )
        forged = outbox.received[0].mail_from.replace("bounces+", "bounces+9")
        assert verp.delivery_of(forged) is None
        assert verp.delivery_of("someone@example.org") is None
    assert sorted(r.to for r in outbox.received) == sorted(readers)
