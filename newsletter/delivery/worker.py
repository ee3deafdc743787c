"""The delivery loop: claim a batch, send each message, record each answer.

One ``Worker`` is one SMTP connection and one database connection. It claims a batch
of due deliveries (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so any number of workers on
any number of machines share a send), then for each: skips people who left since the
audience was frozen, waits for the rate limit, builds the copy, sends it, and records
the server's answer in its own commit. Only an accepted message is marked ``sent``;
so a worker killed at any moment leaves at most its one message in flight ambiguous,
and its other claimed deliveries go back to the queue when their claim goes stale.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from newsletter.delivery import sends
from newsletter.delivery.copies import DigestMailer, Recipient
from newsletter.delivery.models import Delivery, DeliveryStatus
from newsletter.delivery.ratelimit import RateGate
from newsletter.delivery.recorder import Recorder
from newsletter.digests.models import Digest, DigestStatus, digest_lists
from newsletter.extensions import db
from newsletter.mailing.transport import DeliveryError, Transport, open_transport
from newsletter.subscriptions.models import Membership, Subscriber, SubscriberStatus
from newsletter.timeutil import utcnow

log = logging.getLogger(__name__)

# The loop works on tables, not ORM objects: a copy costs microseconds, not milliseconds.
deliveries: sa.Table = Delivery.__table__  # type: ignore[assignment]
subscribers: sa.Table = Subscriber.__table__  # type: ignore[assignment]
digests: sa.Table = Digest.__table__  # type: ignore[assignment]
memberships: sa.Table = Membership.__table__  # type: ignore[assignment]

_MAILBOX_GONE = ("5.1.1", "5.1.10", "5.1.6")  # the address does not exist
_STATUS_CHECK_SECONDS = 1.0


@dataclass
class WorkerReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    stopped: str = ""  # why it stopped before the work ran out ("" when it did)


@dataclass(frozen=True)
class Prepared:
    """What the workers of one process share for one digest: built once."""

    mailer: DigestMailer
    gate: RateGate


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(
        self,
        app: Flask,
        digest_id: int,
        prepared: Prepared,
        stop: threading.Event,
        *,
        max_seconds: float | None = None,
    ) -> None:
        self.app = app
        self.digest_id = digest_id
        self.prepared = prepared
        self.stop = stop
        self.name = worker_name()
        self.config = app.config
        self.deadline = time.monotonic() + max_seconds if max_seconds else None
        self.report = WorkerReport()
        self._errors_in_row = 0
        self._renewed = self._checked = time.monotonic()

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> WorkerReport:
        with self.app.app_context(), db.engine.connect() as connection:
            self.db = connection
            self.recorder = Recorder(db.engine)
            transport = open_transport()
            try:
                self._loop(transport)
            finally:
                transport.close()
                self.recorder.close()
                self._release_claims()
        return self.report

    def _loop(self, transport: Transport) -> None:
        while not self.report.stopped:
            if self.stop.is_set():
                self.report.stopped = "stopped"
                return
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.report.stopped = "time is up"
                return
            if not self._still_sending():
                return
            batch = self._claim()
            if not batch:
                return
            self._work(batch, transport)

    def _still_sending(self) -> bool:
        """Whether the digest is still being sent (staff may pause or cancel it from
        anywhere); checked before each batch and every second within one."""
        status = self.db.scalar(sa.select(digests.c.status).where(digests.c.id == self.digest_id))
        self.db.commit()
        self._checked = time.monotonic()
        if status != DigestStatus.SENDING.value:
            self.report.stopped = f"the digest is {status}"
            return False
        return True

    def _claim(self) -> list[int]:
        now = utcnow()
        due = (
            sa.select(deliveries.c.id)
            .where(
                deliveries.c.digest_id == self.digest_id,
                deliveries.c.status.in_([DeliveryStatus.QUEUED.value, DeliveryStatus.RETRY.value]),
                deliveries.c.next_attempt_at <= now,
            )
            .order_by(deliveries.c.id)
            .limit(int(self.config["SEND_BATCH_SIZE"]))
        )
        if self.db.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claimed = self.db.execute(
            sa.update(deliveries)
            .where(deliveries.c.id.in_(due.scalar_subquery()))
            .values(status=DeliveryStatus.SENDING.value, claimed_by=self.name, claimed_at=now)
            .returning(deliveries.c.id)
        )
        ids = sorted(row[0] for row in claimed)
        self.db.commit()
        self._renewed = time.monotonic()
        return ids

    def _work(self, batch: list[int], transport: Transport) -> None:
        people = deliveries.outerjoin(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
        # The list this person gets the digest through (their first target list by id):
        # the one their copy's List-Id names.
        their_list = (
            sa.select(sa.func.min(memberships.c.list_id))
            .where(
                memberships.c.subscriber_id == subscribers.c.id,
                memberships.c.list_id.in_(
                    sa.select(digest_lists.c.list_id).where(
                        digest_lists.c.digest_id == self.digest_id
                    )
                ),
            )
            .scalar_subquery()
        )
        rows = self.db.execute(
            sa.select(
                deliveries.c.id, deliveries.c.attempts, subscribers.c.id, subscribers.c.email,
                subscribers.c.name, subscribers.c.public_id, subscribers.c.status,
                subscribers.c.language, their_list,
            )
            .select_from(people)
            .where(deliveries.c.id.in_(batch))
            .order_by(deliveries.c.id)
        ).all()  # fmt: skip
        self.db.commit()
        for (
            delivery_id, attempts, subscriber_id, email, name, public_id, status, language, list_id,
        ) in rows:  # fmt: skip
            if self.stop.is_set() or self.report.stopped:
                return  # the rest of the batch goes back to the queue
            if (
                time.monotonic() - self._checked > _STATUS_CHECK_SECONDS
                and not self._still_sending()
            ):
                return
            self._keep_claims()
            if subscriber_id is None or status != SubscriberStatus.ACTIVE.value:
                self._record(delivery_id, DeliveryStatus.SKIPPED, "not subscribed any more")
                self.report.skipped += 1
                continue
            recipient = Recipient(
                delivery_id, email, name or "", _uuid(public_id), list_id, language or ""
            )
            self.prepared.gate.acquire(self.stop)
            if self.stop.is_set():
                return
            envelope_from, message = self.prepared.mailer.build(recipient)
            try:
                answer = transport.send(envelope_from, email, message)
            except DeliveryError as error:
                self._failed(delivery_id, subscriber_id, attempts, error)
            else:
                self._errors_in_row = 0
                self._record(
                    delivery_id, DeliveryStatus.SENT, answer, attempts + 1, sent_at=utcnow()
                )
                self.report.sent += 1

    # -- answers ------------------------------------------------------------------------
    def _failed(
        self, delivery_id: int, subscriber_id: int, attempts: int, error: DeliveryError
    ) -> None:
        self._errors_in_row += 1
        text = str(error)
        if error.scope == "configuration":
            self._record(delivery_id, DeliveryStatus.QUEUED, text)
            self._pause(f"The mail server refused our configuration, not a subscriber: {text}")
            return
        if error.scope == "connection":
            # Not delivered, or maybe delivered as the connection dropped: sent again soon.
            self._record(delivery_id, DeliveryStatus.RETRY, text, attempts, retry_in=5.0)
            self.report.retried += 1
            time.sleep(min(0.1 * 2**self._errors_in_row, 5.0))
        elif error.temporary and attempts + 1 < int(self.config["SEND_MAX_ATTEMPTS"]):
            delays = self.config["SEND_RETRY_DELAYS"]
            delay = float(delays[min(attempts, len(delays) - 1)])
            self._record(delivery_id, DeliveryStatus.RETRY, text, attempts + 1, retry_in=delay)
            self.report.retried += 1
        else:
            self._record(delivery_id, DeliveryStatus.FAILED, text, attempts + 1)
            if not error.temporary and not error.ours:  # a refusal of our form is ours
                self._count_bounce(subscriber_id, error)
            self.report.failed += 1
        budget = int(self.config["SEND_ERROR_BUDGET"])
        if self._errors_in_row >= budget:
            self._pause(f"{self._errors_in_row} errors in a row; the last one: {text}")

    def _count_bounce(self, subscriber_id: int, error: DeliveryError) -> None:
        threshold = float(self.config["BOUNCE_THRESHOLD"])
        weight = threshold if error.text.startswith(_MAILBOX_GONE) else 1.0
        self.db.execute(
            sa.update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(bounce_score=subscribers.c.bounce_score + weight)
        )
        self.db.execute(
            sa.update(subscribers)
            .where(
                subscribers.c.id == subscriber_id,
                subscribers.c.status == SubscriberStatus.ACTIVE.value,
                subscribers.c.bounce_score >= threshold,
            )
            .values(status=SubscriberStatus.BOUNCED.value, status_changed_at=utcnow())
        )
        self.db.commit()

    def _pause(self, reason: str) -> None:
        log.warning("pausing digest %s: %s", self.digest_id, reason)
        with self.app.app_context():
            sends.pause_by_id(self.digest_id, reason)
            db.session.commit()
        self.report.stopped = reason

    # -- bookkeeping --------------------------------------------------------------------
    def _record(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        answer: str,
        attempts: int | None = None,
        *,
        sent_at: datetime | None = None,
        retry_in: float | None = None,
    ) -> None:
        retry_at = utcnow() + timedelta(seconds=retry_in) if retry_in is not None else None
        self.recorder.record(delivery_id, status, answer, attempts, sent_at, retry_at)

    def _my_claims(self) -> sa.Update:
        """An UPDATE of the deliveries this worker has claimed and not finished."""
        return sa.update(deliveries).where(
            deliveries.c.digest_id == self.digest_id,
            deliveries.c.claimed_by == self.name,
            deliveries.c.status == DeliveryStatus.SENDING.value,
        )

    def _keep_claims(self) -> None:
        """Renew this worker's claims before they could look stale to others."""
        if time.monotonic() - self._renewed < float(self.config["SEND_CLAIM_SECONDS"]) / 3:
            return
        self.db.execute(self._my_claims().values(claimed_at=utcnow()))
        self.db.commit()
        self._renewed = time.monotonic()

    def _release_claims(self) -> None:
        """Give back what this worker claimed and did not get to."""
        status = self.db.scalar(sa.select(digests.c.status).where(digests.c.id == self.digest_id))
        back_to = (
            DeliveryStatus.CANCELLED
            if status == DigestStatus.CANCELLED.value
            else DeliveryStatus.QUEUED
        )
        self.db.execute(
            self._my_claims().values(status=back_to.value, claimed_by=None, claimed_at=None)
        )
        self.db.commit()


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def prepare(app: Flask, digest_id: int) -> Prepared:
    """Build the digest's message once for this process's workers."""
    with app.app_context():
        digest = db.session.get(Digest, digest_id)
        if digest is None:
            raise LookupError(f"no digest {digest_id}")
        prepared = Prepared(mailer=DigestMailer(digest), gate=RateGate.from_config(app.config))
        db.session.remove()
        return prepared


def run_workers(
    app: Flask,
    digest_id: int,
    concurrency: int,
    prepared: Prepared | None = None,
    *,
    stop: threading.Event | None = None,
    max_seconds: float | None = None,
) -> list[WorkerReport]:
    """Run ``concurrency`` workers on one digest in threads until the work that is due runs
    out (or ``stop`` is set); then mark the send finished if nothing is left."""
    prepared = prepared or prepare(app, digest_id)
    stop = stop or threading.Event()
    with app.app_context():
        sends.release_stale_claims(digest_id, timedelta(seconds=app.config["SEND_CLAIM_SECONDS"]))
        db.session.commit()
    workers = [
        Worker(app, digest_id, prepared, stop, max_seconds=max_seconds)
        for _ in range(max(1, concurrency))
    ]
    if len(workers) == 1:
        reports = [workers[0].run()]
    else:
        threads = [
            threading.Thread(target=worker.run, name=f"send-{digest_id}") for worker in workers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reports = [worker.report for worker in workers]
    with app.app_context():
        sends.finish_if_done(digest_id)
        db.session.commit()
        db.session.remove()
    return reports
