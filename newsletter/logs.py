"""Logging: one configuration, made by ``create_app``, for every process that builds the
application (gunicorn's workers, Celery's workers and beat, ``flask`` commands).

Each line carries the time (UTC), the level, the logger and the message.
``NEWSLETTER_LOG_LEVEL`` sets how much the application's own loggers (``newsletter.*``)
say; other libraries speak from WARNING. A process whose logging is configured
already (a ``--log-config`` of gunicorn's, pytest's capture) keeps its handlers, and
building the app many times adds nothing more.

Subscribers' addresses never reach a log line at INFO or above: the per-recipient
record is the delivery log in the database (staff's delivery pages). Call sites leave
them out, and the formatter masks any address that an SMTP reply or an exception's
text carries (DEBUG lines keep them, for a developer's eyes).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from flask import Flask

FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
MASK = "<address>"
_ADDRESS_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


class Formatter(logging.Formatter):
    """Time in UTC, level, logger, message; addresses masked from INFO up."""

    def __init__(self) -> None:
        super().__init__(FORMAT, DATE_FORMAT)
        self.converter = _utc

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno < logging.INFO else mask_addresses(text)


def _utc(seconds: float | None) -> time.struct_time:
    return time.gmtime(seconds)


def mask_addresses(text: str) -> str:
    return _ADDRESS_RE.sub(MASK, text)


def level_of(value: Any) -> int:
    """A level given by name (``info``, ``WARNING``) or number."""
    if isinstance(value, int):
        return value
    level = logging.getLevelNamesMapping().get(str(value).strip().upper())
    if level is None:
        raise RuntimeError(
            f"NEWSLETTER_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}"
        )
    return level


def init_app(app: Flask) -> None:
    logging.getLogger("newsletter").setLevel(level_of(app.config["LOG_LEVEL"]))
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()  # stderr: where gunicorn, Celery and cron look
        handler.setFormatter(Formatter())
        root.addHandler(handler)


def keep_for_celery(loglevel: Any = None, **_options: Any) -> None:
    """Celery's ``setup_logging`` signal: with a receiver connected Celery leaves the
    configuration above in place (instead of replacing the root logger's handlers);
    its ``--loglevel`` still sets how much Celery itself says."""
    if loglevel:
        logging.getLogger("celery").setLevel(level_of(loglevel))
