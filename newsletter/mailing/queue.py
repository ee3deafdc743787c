"""Transactional mail leaves only after the transaction that queued it commits.

``enqueue`` writes the message in the caller's transaction. When that session
commits, the queued ids are handed to a dispatcher (a Celery task when a broker is
configured, otherwise sent at once in this process); a rollback discards them.
Whatever could not be sent stays queued and is retried by ``deliver_outgoing``
(``flask mail flush``, the periodic task, or the embedded background loop).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from newsletter.database import rows_changed
from newsletter.extensions import db
from newsletter.mailing.models import OutgoingMail, OutgoingStatus
from newsletter.mailing.transport import DeliveryError, open_transport
from newsletter.timeutil import utcnow

log = logging.getLogger(__name__)

_PENDING_KEY = "newsletter.outgoing_ids"
# Seconds to wait after the n-th failed attempt; the last one repeats.
_BACKOFF = (60, 300, 900, 3600, 3 * 3600, 6 * 3600)
_CLAIM_SECONDS = 300
_CHUNK = 1000  # ids in one IN (...) or rows in one INSERT
MAX_ATTEMPTS = 12


@dataclass
class FlushResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


def enqueue(recipient: str, message: bytes, envelope_from: str) -> int:
    """Queue ``message`` in the current transaction; it is sent after the commit."""
    # Created claimed: the process that queues it sends it after the commit; flushers
    # take it only if that has not happened within the claim window.
    row = OutgoingMail(
        envelope_from=envelope_from,
        recipient=recipient,
        message=message,
        next_attempt_at=utcnow() + timedelta(seconds=_CLAIM_SECONDS),
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(row.id)
    return row.id


def enqueue_many(messages: Iterable[tuple[str, bytes, str]]) -> list[int]:
    """Queue many (recipient, message, envelope sender) triples in the current
    transaction with one multi-row INSERT per thousand (a bulk import asks many people
    to confirm)."""
    ids: list[int] = []
    claimed_until = utcnow() + timedelta(seconds=_CLAIM_SECONDS)
    table: sa.Table = OutgoingMail.__table__  # type: ignore[assignment]
    statement = table.insert().returning(table.c.id)  # Core: no ORM bulk machinery
    connection = db.session.connection()
    rows = (
        {
            "envelope_from": envelope_from,
            "recipient": recipient,
            "message": message,
            "status": OutgoingStatus.QUEUED,
            "attempts": 0,
            "last_error": "",
            "created_at": utcnow(),
            "next_attempt_at": claimed_until,
        }
        for recipient, message, envelope_from in messages
    )
    while chunk := list(itertools.islice(rows, _CHUNK)):
        ids.extend(connection.scalars(statement, chunk))
    db.session.info.setdefault(_PENDING_KEY, []).extend(ids)
    return ids


_dispatchers: dict[str, Callable[[Flask, list[int]], None]] = {}


def register_dispatcher(name: str, dispatcher: Callable[[Flask, list[int]], None]) -> None:
    """Let another layer (the task queue) take over sending; ``MAIL_DISPATCH`` picks it."""
    _dispatchers[name] = dispatcher


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING_KEY, None)
    if ids:
        _dispatch(current_app._get_current_object(), ids)  # type: ignore[attr-defined]


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def listen() -> None:
    """Hand the ids queued in a session to the dispatcher once that session commits.

    The listeners sit on the process-wide scoped session, so they are added once per
    process however many applications it builds (tests build one per test).
    """
    for name, listener in (("after_commit", _after_commit), ("after_rollback", _after_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def _dispatch(app: Flask, ids: list[int]) -> None:
    """``MAIL_DISPATCH``: ``auto`` sends mail caused by a web request on a background
    thread (the response does not wait for SMTP, and its timing does not tell whether
    mail was sent) and any other mail before the command returns; ``inline`` always
    sends at once; another name picks a registered dispatcher (``celery``)."""
    mode = app.config["MAIL_DISPATCH"]
    if mode in _dispatchers:
        _dispatchers[mode](app, ids)
    elif mode == "auto" and has_request_context():
        _send_in_background(app, ids)
    else:
        send_now(app, ids)


def _background(app: Flask) -> ThreadPoolExecutor:
    executor = app.extensions.get("newsletter.mail_thread")
    if executor is None:
        executor = app.extensions["newsletter.mail_thread"] = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="mail"
        )
    return executor


@dataclass
class _Backlog:
    """Ids waiting for the mail thread: requests that commit while it is sending add to
    it, and its next round sends them all over one connection (under load, one round
    serves many requests instead of a connection and a session per request)."""

    ids: list[int] = field(default_factory=list)
    draining: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def _send_in_background(app: Flask, ids: list[int]) -> None:
    backlog: _Backlog = app.extensions.setdefault("newsletter.mail_backlog", _Backlog())
    with backlog.lock:
        backlog.ids.extend(ids)
        if backlog.draining:
            return
        backlog.draining = True
    _background(app).submit(_drain, app, backlog)


def _drain(app: Flask, backlog: _Backlog) -> None:
    while True:
        with backlog.lock:
            ids, backlog.ids = backlog.ids, []
            if not ids:
                backlog.draining = False
                return
        send_now(app, ids)


def send_now(app: Flask, ids: list[int]) -> None:
    """Send mail this process has just queued; a failed send stays queued for a flush."""
    with app.app_context():
        try:
            deliver_outgoing(ids)
        except Exception:  # the change is committed: never turn a mail fault into a 500
            log.exception("sending queued mail %s failed; it stays queued", ids)


def deliver_outgoing(ids: Sequence[int] | None = None, now: datetime | None = None) -> FlushResult:
    """Send queued mail over one connection: the given ``ids`` (just queued by this
    process, which owns them for the claim window), or else every message that is due,
    each claimed first with a conditional UPDATE so that two flushers never send the
    same one.

    Runs in a session of its own: it may be called from another session's after-commit
    hook. A message is deleted as soon as the server took it, so a crash repeats at
    most the one message in flight.
    """
    now = now or utcnow()
    result = FlushResult()
    with Session(db.engine) as session:
        query = sa.select(OutgoingMail.id).where(OutgoingMail.status == OutgoingStatus.QUEUED)
        if ids is None:
            due = session.scalars(
                query.where(OutgoingMail.next_attempt_at <= now).order_by(OutgoingMail.id)
            ).all()
        else:  # in chunks: SQLite allows only so many values in one statement
            wanted = sorted(ids)
            loaded = [  # the rows themselves: each is then found in the session, not queried
                row
                for first in range(0, len(wanted), _CHUNK)
                for row in session.scalars(
                    sa.select(OutgoingMail)
                    .where(
                        OutgoingMail.status == OutgoingStatus.QUEUED,
                        OutgoingMail.id.in_(wanted[first : first + _CHUNK]),
                    )
                    .order_by(OutgoingMail.id)
                )
            ]
            due = [row.id for row in loaded]
        if not due:
            return result
        with open_transport() as transport:
            for mail_id in due:
                row = (
                    session.get(OutgoingMail, mail_id)
                    if ids is not None
                    else _claim(session, mail_id, now)
                )
                if row is None:
                    continue
                try:
                    transport.send(row.envelope_from, row.recipient, row.message)
                except DeliveryError as exc:
                    _record_failure(row, exc, now, result)
                    session.commit()
                    if exc.scope in ("connection", "configuration"):
                        break  # the rest would fail alike; they stay due for the next flush
                else:
                    session.delete(row)
                    result.sent += 1
                    session.commit()
    return result


def _claim(session: Session, mail_id: int, now: datetime) -> OutgoingMail | None:
    claimed = rows_changed(
        sa.update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.next_attempt_at <= now)
        .values(next_attempt_at=now + timedelta(seconds=_CLAIM_SECONDS)),
        session,
    )
    session.commit()
    if claimed != 1:
        return None
    return session.get(OutgoingMail, mail_id)


def _record_failure(
    row: OutgoingMail, exc: DeliveryError, now: datetime, result: FlushResult
) -> None:
    row.attempts += 1
    row.last_error = str(exc)[:2000]
    retry = exc.temporary or exc.scope in ("connection", "configuration")
    if retry and row.attempts < MAX_ATTEMPTS:
        delay = _BACKOFF[min(row.attempts, len(_BACKOFF)) - 1]
        row.next_attempt_at = now + timedelta(seconds=delay)
        result.deferred += 1
        log.warning("mail %s deferred: %s", row.id, exc)
    else:
        row.status = OutgoingStatus.FAILED
        result.failed += 1
        log.error("mail %s failed: %s", row.id, exc)
