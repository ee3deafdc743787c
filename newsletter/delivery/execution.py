"""Where sends run.

- Embedded (no broker): a send started from the web runs in a background thread of
  the web process, and a ticker thread starts scheduled digests and due retries.
- Command line: ``flask digest send ID`` runs the workers in the foreground.
- Scaled out: with ``CELERY_BROKER_URL`` set, a send becomes ``SEND_CONCURRENCY``
  Celery tasks that any worker on any machine runs against the shared database; each
  task works for a while and queues its successor, and the periodic ``tick`` starts
  scheduled digests and picks up retries and sends whose workers died.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from newsletter.bounces import polling
from newsletter.delivery import figures, sends, worker
from newsletter.delivery.models import Delivery, DeliveryStatus
from newsletter.delivery.processes import work_in_processes
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.mailing.queue import deliver_outgoing
from newsletter.timeutil import utcnow

log = logging.getLogger(__name__)

_lock = threading.Lock()
_threads: dict[tuple[int, int], threading.Thread] = {}
_prepared: dict[tuple[int, int], worker.Prepared] = {}
_tickers: dict[int, threading.Event] = {}


def prepared_for(app: Flask, digest_id: int) -> worker.Prepared:
    """The digest's message, rendered once per process and reused by every worker."""
    key = (id(app), digest_id)
    with _lock:
        found = _prepared.get(key)
    if found is None:
        found = worker.prepare(app, digest_id)
        with _lock:
            found = _prepared.setdefault(key, found)
    return found


def forget(app: Flask, digest_id: int) -> None:
    with _lock:
        _prepared.pop((id(app), digest_id), None)


def work_on(
    app: Flask,
    digest_id: int,
    *,
    max_seconds: float | None = None,
    concurrency: int | None = None,
    stop: threading.Event | None = None,
) -> list[worker.WorkerReport]:
    """Work on a send in this process until its due work runs out (or time is up)."""
    reports = worker.run_workers(
        app,
        digest_id,
        concurrency if concurrency is not None else int(app.config["SEND_CONCURRENCY"]),
        prepared_for(app, digest_id),
        stop=stop,
        max_seconds=max_seconds,
    )
    with app.app_context():
        status = db.session.scalar(sa.select(Digest.status).where(Digest.id == digest_id))
        db.session.remove()
    if status != DigestStatus.SENDING:
        forget(app, digest_id)
    return reports


def dispatch(app: Flask, digest_id: int) -> None:
    """Have the send worked on, wherever this installation sends."""
    celery = app.extensions.get("celery")
    if celery is not None:
        for _ in range(max(1, int(app.config["SEND_CONCURRENCY"]))):
            celery.send_task("newsletter.tasks.deliver", args=[digest_id])
    elif app.config["SEND_BACKGROUND"]:
        start_thread(app, digest_id)


def start_thread(app: Flask, digest_id: int) -> bool:
    """Send in a background thread of this process, unless one already does."""
    key = (id(app), digest_id)
    with _lock:
        thread = _threads.get(key)
        if thread is not None and thread.is_alive():
            return False
        thread = threading.Thread(
            target=_run_logged, args=(app, digest_id), name=f"digest-{digest_id}", daemon=True
        )
        _threads[key] = thread
    thread.start()
    return True


def _run_logged(app: Flask, digest_id: int) -> None:
    try:
        work_on(app, digest_id)
    except Exception:  # a background thread has no one else to tell
        log.exception("sending digest %s failed; it resumes at the next tick", digest_id)


def running_here(app: Flask, digest_id: int) -> bool:
    with _lock:
        thread = _threads.get((id(app), digest_id))
    return thread is not None and thread.is_alive()


@dataclass
class TickReport:
    started: list[int]
    resumed: list[int]
    mail_sent: int
    inbound_read: int = 0  # returned mail fetched from the inbound mailbox


def tick(app: Flask) -> TickReport:
    """One round of the periodic work: start due scheduled digests, find sends with due
    work (retries, a dead worker's deliveries), send queued mail, read returned mail
    from the inbound mailbox when one is configured. The caller has the sends in the
    report worked on (``dispatch``, or in the foreground).

    Each digest is handled in a transaction of its own, and a fault in one (content that
    cannot become an email, say) is logged and kept to it: the other digests, the
    queued mail and the inbound mailbox are still seen to."""
    with app.app_context():
        started = [digest_id for digest_id in sends.due_for_start() if _start(digest_id)]
        sending = db.session.scalars(
            sa.select(Digest.id).where(Digest.status == DigestStatus.SENDING)
        ).all()
        db.session.commit()
        resumed = [digest_id for digest_id in sending if _has_due_work(app, digest_id)]
        try:
            mail_sent = deliver_outgoing().sent
        except Exception:  # the sends above are seen to; mail waits for the next tick
            log.exception("sending queued mail failed; it stays queued")
            mail_sent = 0
        inbound_read = polling.poll_quietly(app)
        db.session.remove()
    return TickReport(
        started=started, resumed=resumed, mail_sent=mail_sent, inbound_read=inbound_read
    )


def _start(digest_id: int) -> bool:
    """Start one due digest in its own transaction; a fault sends it back to draft."""
    try:
        started = sends.start_scheduled(digest_id)
        db.session.commit()
    except Exception as exc:  # its content, not the clock: the other digests go on
        db.session.rollback()
        log.exception("scheduled digest %s could not start", digest_id)
        sends.not_started(
            digest_id,
            f"it could not be made into an email ({type(exc).__name__}: {exc}). "
            "Correct it, then send or schedule it again.",
        )
        db.session.commit()
        return False
    return started


def _has_due_work(app: Flask, digest_id: int) -> bool:
    """Whether a send has deliveries due and nobody here works on it (finishing it if
    nothing is left); a fault is logged and kept to this send."""
    claim_timeout = timedelta(seconds=app.config["SEND_CLAIM_SECONDS"])
    try:
        sends.release_stale_claims(digest_id, claim_timeout)
        if sends.finish_if_done(digest_id):
            db.session.commit()
            return False
        due = db.session.scalar(
            sa.select(sa.func.count(Delivery.id)).where(
                Delivery.digest_id == digest_id,
                Delivery.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.RETRY]),
                Delivery.next_attempt_at <= utcnow(),
            )
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("checking the send of digest %s failed", digest_id)
        return False
    return bool(due) and not running_here(app, digest_id)


def tick_and_dispatch(app: Flask) -> TickReport:
    report = tick(app)
    for digest_id in [*report.started, *report.resumed]:
        dispatch(app, digest_id)
    return report


def ensure_ticker(app: Flask) -> None:
    """The embedded default's clock: a daemon thread calling ``tick`` now and then."""
    with _lock:
        if id(app) in _tickers:
            return
        stopped = _tickers[id(app)] = threading.Event()
    interval = float(app.config["SEND_TICK_SECONDS"])

    def loop() -> None:
        while not stopped.is_set():
            try:
                tick_and_dispatch(app)
            except Exception:
                log.exception("the periodic send check failed; trying again later")
            stopped.wait(interval)

    threading.Thread(target=loop, name="send-ticker", daemon=True).start()


def stop_background(app: Flask, timeout: float = 10.0) -> None:
    """Stop this app's clock and wait for its sending threads (tests, shutdown)."""
    with _lock:
        stopped = _tickers.pop(id(app), None)
        threads = [thread for (app_id, _), thread in _threads.items() if app_id == id(app)]
    if stopped is not None:
        stopped.set()
    for thread in threads:
        thread.join(timeout)


def send_foreground(
    app: Flask,
    digest_id: int,
    on_progress: Callable[[figures.Progress], None],
    stop: threading.Event,
    concurrency: int | None = None,
    processes: int = 1,
) -> figures.Progress:
    """Work on a send from this process (or from ``processes`` processes of this
    machine, ``concurrency`` connections each), reporting progress every half second,
    until no work is due now or ``stop`` is set. Deliveries claimed by other workers are
    waited for: finished by them, or taken over once their claims go stale (a dead
    worker)."""
    claim_seconds = float(app.config["SEND_CLAIM_SECONDS"])
    while True:
        if processes > 1:
            threads = concurrency or int(app.config["SEND_CONCURRENCY"])
            tick = lambda: on_progress(_progress(app, digest_id))  # noqa: E731 - one line
            work_in_processes(app, digest_id, processes, threads, stop, tick)
        else:
            _work_with_progress(app, digest_id, on_progress, stop, concurrency)
        current = _progress(app, digest_id)
        if stop.is_set() or not current.in_flight or not _is_sending(app, digest_id):
            on_progress(current)
            return current
        waited = 0.0
        while waited <= claim_seconds and current.in_flight and not stop.is_set():
            stop.wait(0.5)
            waited += 0.5
            current = _progress(app, digest_id)
            on_progress(current)


def _work_with_progress(
    app: Flask,
    digest_id: int,
    on_progress: Callable[[figures.Progress], None],
    stop: threading.Event,
    concurrency: int | None,
) -> None:
    done = threading.Event()

    def work() -> None:
        try:
            work_on(app, digest_id, concurrency=concurrency, stop=stop)
        finally:
            done.set()

    thread = threading.Thread(target=work, name=f"digest-{digest_id}")
    thread.start()
    try:
        while not done.wait(0.5):
            on_progress(_progress(app, digest_id))
    except BaseException:  # Ctrl-C: let the workers give back their claims, then stop
        stop.set()
        raise
    finally:
        thread.join()


def _is_sending(app: Flask, digest_id: int) -> bool:
    with app.app_context():
        status = db.session.scalar(sa.select(Digest.status).where(Digest.id == digest_id))
        db.session.remove()
    return status == DigestStatus.SENDING


def _progress(app: Flask, digest_id: int) -> figures.Progress:
    with app.app_context():
        current = figures.progress(digest_id)
        db.session.remove()
        return current
