"""The subscribe answer does the same work whatever the address's state (new, pending,
active, unsubscribed, complained): what depends on it runs after the answer, so the
response time tells nothing about who is subscribed."""

from __future__ import annotations

import re
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber, SubscriberStatus
from tests.subscriptions.helpers import subscribe

pytestmark = pytest.mark.app_config(MAIL_DISPATCH="auto", CONFIRM_RESEND_MINUTES=0)


def _people(app, add_subscribers) -> dict[str, str]:
    states = {}
    for status in ("pending", "active", "unsubscribed", "complained"):
        [address] = add_subscribers(1, status=status, prefix=status)
        states[status] = address
    states["new"] = "never.seen@example.org"
    return states


def test_the_answer_runs_the_same_statements_for_every_state(
    app, client, add_subscribers, digest_id, outbox
):
    people = _people(app, add_subscribers)
    subscribe(client, "warm.up@example.org")  # the consent wording's first use
    outbox.wait_for(1)
    answered = threading.current_thread()
    seen: list[str] = []

    def on_the_answer_thread(_conn, _cursor, statement, *_args) -> None:
        if threading.current_thread() is answered:
            seen.append(re.sub(r"\s+", " ", statement))

    runs = {}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", on_the_answer_thread)
    try:
        for state, address in people.items():
            seen.clear()
            response = subscribe(client, address)
            assert response.status_code == 302, state
            assert response.headers["Location"] == "/subscribe/sent"
            runs[state] = [s for s in seen if "mailing_lists" in s or "subscribers" in s]
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", on_the_answer_thread)
    assert len({tuple(statements) for statements in runs.values()}) == 1, runs
    assert not any("subscribers" in s for s in runs["new"])  # no lookup of the address

    # The work itself was done, after the answers.
    mail = outbox.wait_for(5)
    assert {m.to for m in mail} >= {people["new"], people["pending"], people["active"]}
    with app.app_context():
        status = db.session.scalar(
            sa.select(Subscriber.status).where(Subscriber.email_key == people["new"])
        )
    assert status == SubscriberStatus.PENDING
