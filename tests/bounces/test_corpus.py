"""Real-world returned mail (``corpus/``: bounces, DSNs, complaints and auto-replies
from many MTAs and providers, sources and licences in its README) each routed as the
manifest says, end to end: piped to the service as if it came back to the VERP
address of a subscriber's mail."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter.bounces import runner, verp
from newsletter.bounces.models import EventKind, InboundMessage, InboundOutcome, MailEvent
from newsletter.extensions import db
from newsletter.subscriptions.models import Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow

CORPUS = Path(__file__).parent / "corpus"
BOUNCES = "bounces.news.example.org"


def _manifest() -> list[tuple[str, str]]:
    rows = []
    for line in (CORPUS / "manifest.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            path, expected = line.split("\t")
            rows.append((path, expected))
    return rows


MANIFEST = _manifest()
_STATUS_AFTER = {
    "hard_bounce": SubscriberStatus.BOUNCED,
    "complaint": SubscriberStatus.COMPLAINED,
}


def test_the_corpus_is_large_and_every_file_has_an_expected_outcome():
    files = {
        str(path.relative_to(CORPUS))
        for path in CORPUS.glob("*/*")
        if path.name not in ("LICENSE", "README.md")
    }
    assert files == {path for path, _ in MANIFEST}
    assert len(files) >= 100
    kinds = {expected for _, expected in MANIFEST}
    assert {"hard_bounce", "soft_bounce", "rejected", "complaint", "auto_reply"} <= kinds
    assert {"delayed", "kept"} <= kinds


def _subscriber(app) -> int:
    with app.app_context():
        subscriber = Subscriber(
            email="reader@example.org",
            email_key="reader@example.org",
            status=SubscriberStatus.ACTIVE,
            confirmation_sent_at=utcnow(),
        )
        db.session.add(subscriber)
        db.session.commit()
        return subscriber.id


@pytest.mark.app_config(BOUNCE_DOMAIN=BOUNCES)
@pytest.mark.parametrize(("path", "expected"), MANIFEST, ids=[path for path, _ in MANIFEST])
def test_each_returned_message_is_routed_as_expected(app, path, expected):
    subscriber_id = _subscriber(app)
    raw = (CORPUS / path).read_bytes()
    with app.app_context():
        address = verp.envelope_sender(subscriber_id, "x@example.org")
        result = runner.process_and_commit(raw, "file", [address])
        status = db.session.get(Subscriber, subscriber_id).status
        events = list(db.session.scalars(sa.select(MailEvent.kind)))
        again = runner.process_and_commit(raw, "file", [address])
        assert again.outcome == "duplicate"
        assert db.session.scalar(sa.select(sa.func.count(MailEvent.id))) == len(events)
        assert db.session.scalar(sa.select(sa.func.count(InboundMessage.id))) == 1
    if expected == "kept":
        assert result.outcome == InboundOutcome.KEPT
        assert events == []
    else:
        assert [event.value for event in result.events] == [expected], result.summary
        assert events == [EventKind(expected)]
    assert status == _STATUS_AFTER.get(expected, SubscriberStatus.ACTIVE)
