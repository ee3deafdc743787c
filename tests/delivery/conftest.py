"""A digest ready to send and an audience for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from newsletter.digests import services as digests
from newsletter.extensions import db
from newsletter.sessions import services as sessions
from newsletter.sessions.importer import parse_summary
from newsletter.subscriptions.lists import list_by_slug
from newsletter.subscriptions.models import Membership, Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow
from tests.digests.conftest import SAMPLE


@pytest.fixture
def add_subscribers(app) -> Callable[..., list[str]]:
    """Insert subscribers in bulk; return their addresses."""

    def add(
        count: int,
        lists: tuple[str, ...] = ("digest",),
        status: str = "active",
        prefix: str = "reader",
    ) -> list[str]:
        now = utcnow()
        with app.app_context():
            list_ids = [list_by_slug(slug).id for slug in lists]
            start = db.session.scalar(sa.select(sa.func.count(Subscriber.id))) or 0
            rows = [
                {
                    "public_id": uuid.uuid4(),
                    "email": f"{prefix}{start + n}@example.org",
                    "email_key": f"{prefix}{start + n}@example.org",
                    "name": f"Reader {start + n}",
                    "organisation": "",
                    "status": SubscriberStatus(status),
                    "created_at": now,
                    "status_changed_at": now,
                    "bounce_score": 0.0,
                }
                for n in range(count)
            ]
            if rows:
                db.session.execute(sa.insert(Subscriber), rows)
                ids = db.session.scalars(
                    sa.select(Subscriber.id).where(
                        Subscriber.email_key.in_([r["email_key"] for r in rows])
                    )
                ).all()
                db.session.execute(
                    sa.insert(Membership),
                    [
                        {"subscriber_id": sid, "list_id": lid, "created_at": now}
                        for sid in ids
                        for lid in list_ids
                    ],
                )
            db.session.commit()
            return [row["email"] for row in rows]

    return add


@pytest.fixture
def digest_id(app, make_list) -> int:
    """A draft digest quoting the sample session, to the list 'digest'."""
    make_list("digest", "Dialogue digest", default=True)
    with app.app_context():
        parsed = parse_summary(SAMPLE.read_text(encoding="utf-8"))
        data = sessions.SessionData.from_parsed(parsed)
        data.is_published = True
        session = sessions.create_session(data, parsed.points)
        digest = digests.create_from_session(session)
        db.session.commit()
        return digest.id


@pytest.fixture
def start(app) -> Callable[[int], int]:
    from newsletter.delivery import sends
    from newsletter.digests.models import Digest

    def start_send(digest_id: int) -> int:
        with app.app_context():
            size = sends.start_send(db.session.get(Digest, digest_id))
            db.session.commit()
            return size

    return start_send


@pytest.fixture
def deliveries(app) -> Callable[[int], dict[str, Any]]:
    """Each delivery of a digest by recipient address: status, attempts, answer."""
    from newsletter.delivery.models import Delivery

    def read(digest_id: int) -> dict[str, Any]:
        with app.app_context():
            rows = db.session.execute(
                sa.select(
                    Subscriber.email_key, Delivery.status, Delivery.attempts, Delivery.last_response
                )
                .join(Subscriber, Subscriber.id == Delivery.subscriber_id, isouter=True)
                .where(Delivery.digest_id == digest_id)
            ).all()
            return {
                email: (status.value, attempts, answer) for email, status, attempts, answer in rows
            }

    return read
