"""Celery tasks: ``celery -A newsletter.tasks worker`` (and ``… beat`` for the clock).

This module is the workers' entry point: importing it builds the application from the
environment (``NEWSLETTER_*``, ``NEWSLETTER_CELERY_BROKER_URL`` included). The web
process never imports it; it queues tasks by name. Tasks are thin: each calls a service.
"""

from __future__ import annotations

from newsletter import create_app
from newsletter.delivery import execution
from newsletter.mailing.queue import deliver_outgoing
from newsletter.subscriptions import imports

flask_app = create_app()
if "celery" not in flask_app.extensions:
    raise RuntimeError("Set NEWSLETTER_CELERY_BROKER_URL to run Celery workers.")
celery = flask_app.extensions["celery"]
app = celery

# How long one task works on a send before handing over to a fresh task, so that a
# lost worker costs at most this much work to redo and other sends get their turn.
TASK_SECONDS = 60.0


@celery.task(name="newsletter.tasks.deliver")
def deliver(digest_id: int) -> None:
    reports = execution.work_on(flask_app, digest_id, max_seconds=TASK_SECONDS, concurrency=1)
    if any(report.stopped == "time is up" for report in reports):
        deliver.delay(digest_id)


@celery.task(name="newsletter.tasks.tick")
def tick() -> None:
    execution.tick_and_dispatch(flask_app)


@celery.task(name="newsletter.tasks.send_outgoing")
def send_outgoing(ids: list[int]) -> None:
    deliver_outgoing(ids)


@celery.task(name="newsletter.tasks.import_subscribers")
def import_subscribers(job_id: int) -> None:
    imports.run(flask_app, job_id)
