"""Recording each delivery's outcome: the one database write per message."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from newsletter.dbtypes import UTCDateTime
from newsletter.delivery.models import DeliveryStatus

_RECORD_SQL = (
    "UPDATE deliveries SET status = {new_status}, last_response = {answer},"
    " attempts = COALESCE({new_attempts}, attempts), sent_at = COALESCE({sent}, sent_at),"
    " next_attempt_at = COALESCE({retry_at}, next_attempt_at), claimed_by = NULL,"
    " claimed_at = NULL WHERE id = {delivery_id}"
)


class Recorder:
    """Writes each delivery's outcome as one autocommitted statement, on a database
    connection of its own: the one write per message, so it is kept to a single round
    trip (on PostgreSQL with ``synchronous_commit`` off: it survives a crash of this
    process; only a crash of the database server could lose the last instant of marks).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.dialect = engine.dialect
        self.connection = engine.raw_connection()
        driver = self.connection.driver_connection
        self.connection.detach()  # settings changed here must not reach the pool
        if self.dialect.name == "postgresql":
            driver.autocommit = True  # type: ignore[union-attr]
            cursor = self.connection.cursor()
            cursor.execute("SET synchronous_commit TO OFF")
            marker = "%({})s"
        else:
            driver.isolation_level = None  # type: ignore[union-attr]
            marker = ":{}"
        names = ("new_status", "answer", "new_attempts", "sent", "retry_at", "delivery_id")
        self.sql = _RECORD_SQL.format(**{name: marker.format(name) for name in names})
        self.cursor = self.connection.cursor()
        self._time = UTCDateTime().bind_processor(self.dialect) or (lambda value: value)

    def record(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        answer: str,
        attempts: int | None,
        sent_at: datetime | None,
        retry_at: datetime | None,
    ) -> None:
        self.cursor.execute(
            self.sql,
            {
                "delivery_id": delivery_id,
                "new_status": status.value,
                "answer": answer[:1000],
                "new_attempts": attempts,
                "sent": self._time(sent_at) if sent_at else None,
                "retry_at": self._time(retry_at) if retry_at else None,
            },
        )

    def close(self) -> None:
        self.connection.close()
