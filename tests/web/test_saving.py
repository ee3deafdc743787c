"""How views save: one helper commits once, retries a lost unique-key race, and turns a
refusal into a form error, a flash or a 400 page; a refusal no view handled is a 400."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from flask import get_flashed_messages

from newsletter.digests.models import Digest
from newsletter.digests.services import MAX_SUBJECT
from newsletter.extensions import csrf, db
from newsletter.sessions import services as sessions
from newsletter.subscriptions.models import Subscriber
from newsletter.validation import InvalidInput
from newsletter.web.formtools import RACE_LOST, saving


def _subscribers() -> int:
    return db.session.scalar(sa.select(sa.func.count(Subscriber.id))) or 0


def _insert_elsewhere(key: str) -> None:
    """Another request commits the same address through its own connection."""
    with db.engine.begin() as other:
        other.execute(
            sa.insert(Subscriber).values(public_id=uuid.uuid4(), email=key, email_key=key)
        )


def _add(key: str) -> None:
    db.session.add(Subscriber(email=key, email_key=key))
    db.session.flush()


def test_a_digest_from_a_session_with_a_long_title_gets_a_shortened_subject(
    app, client, staff_login
):
    staff_login()
    title = " ".join(f"word{number}" for number in range(40))  # 309 characters
    title = title[:250].rstrip()
    with app.app_context():
        session = sessions.create_session(sessions.SessionData(series_name="S", title=title))
        sessions.add_point(session, "A point.")
        db.session.commit()
        session_id = session.id
    token = staff_login.csrf_token(f"/staff/sessions/{session_id}")

    response = client.post(f"/staff/sessions/{session_id}/digest", data={"csrf_token": token})

    assert response.status_code == 302
    with app.app_context():
        digest = db.session.scalar(sa.select(Digest))
        assert digest is not None
        assert response.headers["Location"] == f"/staff/digests/{digest.id}"
        assert len(digest.subject) <= MAX_SUBJECT
        assert digest.subject.endswith("…")
        kept = digest.subject.removesuffix("…")
        assert title.startswith(kept)
        assert title[len(kept)] == " "  # cut between words
        assert len(kept) > MAX_SUBJECT - 12  # and not far before the limit
        assert [item.point.text for item in digest.items] == ["A point."]


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_a_refusal_no_view_handled_is_a_400_with_its_reason(app, accept):
    def careless() -> str:
        _add("half@example.org")
        raise InvalidInput("That cannot be done today.")

    app.add_url_rule("/careless", "careless", csrf.exempt(careless), methods=["POST"])
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: only a handler helps
    response = app.test_client().post("/careless", headers={"Accept": accept})

    assert response.status_code == 400
    if accept == "application/json":
        assert response.get_json() == {"error": "That cannot be done today."}
    else:
        assert "That cannot be done today." in response.get_data(as_text=True)
    with app.app_context():
        assert _subscribers() == 0  # rolled back, not committed by a later request
        db.session.commit()
        assert _subscribers() == 0


def test_a_refusal_on_a_page_is_a_400_and_keeps_nothing(app):
    def refused() -> str:
        with saving(page=True):
            _add("page@example.org")
            raise InvalidInput("This link has been used already.")
        return "not reached"

    app.add_url_rule("/refused", "refused", csrf.exempt(refused), methods=["POST"])
    response = app.test_client().post("/refused")
    assert response.status_code == 400
    assert "This link has been used already." in response.get_data(as_text=True)
    with app.app_context():
        assert _subscribers() == 0


def test_a_refusal_without_a_form_is_flashed_and_rolled_back(app):
    with app.test_request_context():
        with saving() as attempt:
            _add("flash@example.org")
            raise InvalidInput("Only a draft can be deleted.")
        assert not attempt.ok
        assert get_flashed_messages(with_categories=True) == [
            ("error", "Only a draft can be deleted.")
        ]
        assert _subscribers() == 0


def test_saving_commits_once_and_says_so(app):
    with app.test_request_context():
        with saving() as attempt:
            _add("kept@example.org")
        assert attempt.ok
        assert get_flashed_messages() == []
        db.session.rollback()  # nothing left to undo: it was committed
        assert _subscribers() == 1


def test_another_error_rolls_back_and_propagates(app):
    def faulty() -> None:
        _add("fault@example.org")
        _ = 1 / 0

    with app.test_request_context(), pytest.raises(ZeroDivisionError), saving() as attempt:
        attempt.run(faulty)
    with app.app_context():
        assert _subscribers() == 0


def test_a_unique_key_taken_meanwhile_runs_the_calls_again(app):
    calls = []

    def subscribe_once(key: str) -> None:
        calls.append(key)
        found = db.session.scalar(sa.select(Subscriber).where(Subscriber.email_key == key))
        if len(calls) == 1:
            _insert_elsewhere(key)  # the other request wins between our read and write
        if found is None:
            _add(key)

    with app.test_request_context():
        with saving(retries=3) as attempt:
            attempt.run(subscribe_once, "race@example.org")
        assert attempt.ok
        assert calls == ["race@example.org"] * 2
        assert _subscribers() == 1
        assert get_flashed_messages() == []


def test_a_race_lost_every_time_is_a_refusal_not_a_500(app):
    def always_beaten() -> None:
        key = f"{uuid.uuid4().hex}@example.org"
        _insert_elsewhere(key)
        _add(key)

    with app.test_request_context():
        with saving(retries=2) as attempt:
            attempt.run(always_beaten)
        assert not attempt.ok
        assert get_flashed_messages(with_categories=True) == [("error", RACE_LOST)]
        assert _subscribers() == 3  # the other requests' rows, none of ours


def test_without_retries_a_unique_key_race_is_not_hidden(app):
    with app.app_context():
        _insert_elsewhere("twice@example.org")
    with app.test_request_context(), pytest.raises(sa.exc.IntegrityError), saving() as attempt:
        attempt.run(_add, "twice@example.org")
