"""Returned mail processed message by message, each in its own transaction: the one
place in ``bounces/`` that commits (like the delivery runner), for the callers that
read many messages (the command line, the mailbox poller). A message's outcome is
committed before the next one is read, and before a mailbox is told to move or
delete it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from newsletter.bounces.inbound import DUPLICATE, ERROR, Result, process_message
from newsletter.extensions import db

log = logging.getLogger(__name__)


def process_and_commit(raw: bytes, origin: str, envelope_to: Sequence[str] = ()) -> Result:
    """Process one message in a transaction of its own; a failure rolls it back (the
    message stays where it was, to be read again) instead of stopping the run."""
    try:
        result = process_message(raw, origin, envelope_to)
        db.session.commit()
    except IntegrityError:  # another process took the same message at the same time
        db.session.rollback()
        return Result(DUPLICATE, summary="processed by another worker")
    except Exception:
        db.session.rollback()
        log.exception("an inbound message could not be processed; it stays to be retried")
        return Result(ERROR, summary="could not be processed")
    return result
