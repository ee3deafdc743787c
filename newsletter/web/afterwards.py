"""Work a view hands on to run after its answer has gone.

The subscribe form answers the same for every address; doing the address-dependent
work (create, hold changes, queue a confirmation or a note, or nothing) after the
answer keeps its timing from telling whether an address is known. ``MAIL_DISPATCH =
inline`` (tests, single-step debugging) runs the work at once instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

from newsletter.extensions import db

log = logging.getLogger(__name__)

_KEY = "newsletter.afterwards"


def after_the_answer(work: Callable[[], object], what: str) -> None:
    """Run ``work`` (which commits what it changes) in an app context of its own on this
    process's background thread; a fault is logged, never shown to the person."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["MAIL_DISPATCH"] == "inline":
        work()
        return
    executor = app.extensions.get(_KEY)
    if executor is None:
        executor = app.extensions.setdefault(
            _KEY, ThreadPoolExecutor(max_workers=1, thread_name_prefix="afterwards")
        )

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception:
                db.session.rollback()
                log.exception("%s failed after the answer was sent", what)
            finally:
                db.session.remove()

    executor.submit(run)
