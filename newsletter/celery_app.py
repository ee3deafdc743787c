"""Celery, when ``CELERY_BROKER_URL`` is set: the client the app uses to queue work, and
the worker's configuration (``celery -A newsletter.tasks worker``)."""

from __future__ import annotations

from typing import Any

from celery import Celery, Task, signals
from flask import Flask

from newsletter import logs
from newsletter.mailing import queue


def init_app(app: Flask) -> None:
    broker = app.config["CELERY_BROKER_URL"]
    if not broker:
        return

    class FlaskTask(Task):
        """Every task runs inside the application context."""

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=broker,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        # A task is acknowledged when it is done: if its worker dies, another one
        # redoes it (sending is idempotent: deliveries already sent are not claimed).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="newsletter",
        timezone="UTC",
        beat_schedule={
            "tick": {
                "task": "newsletter.tasks.tick",
                "schedule": float(app.config["SEND_TICK_SECONDS"]),
            },
        },
    )
    app.extensions["celery"] = celery
    # Workers and beat log as the rest of the application does (see logs.py).
    signals.setup_logging.connect(logs.keep_for_celery, weak=False, dispatch_uid="newsletter")
    queue.register_dispatcher("celery", _send_mail_by_worker)


def _send_mail_by_worker(app: Flask, ids: list[int]) -> None:
    app.extensions["celery"].send_task("newsletter.tasks.send_outgoing", args=[ids])
