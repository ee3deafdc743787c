"""Database helpers."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from newsletter.database import commit_with_retry
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber


def _insert_elsewhere(key: str) -> None:
    """Another request commits the same address through its own connection."""
    with db.engine.begin() as other:
        other.execute(
            sa.insert(Subscriber).values(public_id=uuid.uuid4(), email=key, email_key=key)
        )


def test_a_unique_key_taken_meanwhile_is_retried(app):
    calls = []

    def operation() -> bool:
        calls.append(1)
        found = db.session.scalar(
            sa.select(Subscriber).where(Subscriber.email_key == "k@example.org")
        )
        if len(calls) == 1:
            _insert_elsewhere("k@example.org")
        if found is None:
            db.session.add(Subscriber(email="k@example.org", email_key="k@example.org"))
            db.session.flush()
        return found is not None

    with app.app_context():
        assert commit_with_retry(operation) is True
        assert len(calls) == 2
        assert db.session.scalar(sa.select(sa.func.count(Subscriber.id))) == 1


def test_retries_are_bounded(app):
    def operation() -> None:
        key = f"{uuid.uuid4().hex}@example.org"
        _insert_elsewhere(key)
        db.session.add(Subscriber(email=key, email_key=key))
        db.session.flush()

    with app.app_context(), pytest.raises(IntegrityError):
        commit_with_retry(operation, attempts=2)


def test_compare_and_set_acts_once_and_shows_what_the_database_holds(app):
    from newsletter.database import compare_and_set
    from newsletter.subscriptions.models import SubscriberStatus

    with app.app_context():
        subscriber = Subscriber(email="cas@example.org", email_key="cas@example.org")
        db.session.add(subscriber)
        db.session.commit()
        pending = Subscriber.status == SubscriberStatus.PENDING
        with db.engine.begin() as other:  # another request confirms first
            other.execute(
                sa.update(Subscriber)
                .where(Subscriber.id == subscriber.id)
                .values(status=SubscriberStatus.ACTIVE)
            )
        assert subscriber.status == SubscriberStatus.PENDING  # what this session last read
        assert not compare_and_set(subscriber, pending, status=SubscriberStatus.UNSUBSCRIBED)
        assert subscriber.status == SubscriberStatus.ACTIVE
        active = Subscriber.status == SubscriberStatus.ACTIVE
        assert compare_and_set(subscriber, active, status=SubscriberStatus.UNSUBSCRIBED)
        assert subscriber.status == SubscriberStatus.UNSUBSCRIBED
