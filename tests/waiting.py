"""Waiting in tests without guessing how long things take.

A fixed ``time.sleep`` before an assertion is either too short on a loaded machine (the
test flakes) or too long everywhere else (the suite crawls). Wait for the condition
itself, with a deadline that only a real fault reaches; and before asserting that
something did *not* happen, make sure everything that could have made it happen has
run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from flask import Flask

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    message: str | Callable[[], str] = "the condition never held",
    interval: float = 0.01,
) -> T:
    """Call ``predicate`` until it returns something true and return that; fail with
    ``message`` (a string, or a function giving one) once ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"after {timeout:g} s: {message() if callable(message) else message}"
            )
        time.sleep(interval)


def all_mail_attempted(app: Flask, timeout: float = 30.0) -> None:
    """Make sure no mail the app queued can still arrive: its background mail thread (if
    it has one) is idle, and every message still queued has been handed to the SMTP
    server, as a flush a day from now would do. After this, what the SMTP server has not
    received was never going to be sent."""
    from newsletter.extensions import db
    from newsletter.mailing.queue import deliver_outgoing
    from newsletter.timeutil import utcnow

    # The mail thread (MAIL_DISPATCH=auto) has one worker and runs its jobs in order:
    # once a job submitted now has run, every earlier one has.
    executor = app.extensions.get("newsletter.mail_thread")
    if executor is not None:
        executor.submit(lambda: None).result(timeout=timeout)
    with app.app_context():
        deliver_outgoing(now=utcnow() + timedelta(days=1))
        db.session.remove()
