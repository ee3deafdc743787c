"""Database setup: the models' registry and per-backend connection settings."""

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from newsletter.extensions import db

T = TypeVar("T")


def init_app(app: Flask) -> None:
    from newsletter import models  # noqa: F401 - registers every table on the metadata

    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    """Enforce foreign keys (off by default in SQLite), let readers run beside the one
    writer (WAL), wait for a lock instead of failing at once, and make commits cheap."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] not in ("memory", "wal"):
        cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL syncs at checkpoints, not at every commit: a commit survives a
    # crash of the process (the send loop commits each message), though not of the OS.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def insert_or_ignore(model: Any, values: dict[str, Any]) -> None:
    """INSERT a row unless one with the same key exists (safe against a concurrent insert)."""
    db.session.execute(insert_ignoring(model).values(values))


def insert_ignoring(model: Any) -> Any:
    """An INSERT that skips rows whose key exists already (``ON CONFLICT DO NOTHING``)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    raise RuntimeError(f"unsupported database {dialect}")  # pragma: no cover


def commit_with_retry(operation: Callable[[], T], attempts: int = 3) -> T:
    """Run ``operation`` and commit; if a concurrent request wrote the same rows first
    (a unique key taken between our read and our write, as a double-click does), roll
    back and run it again: the next run sees the other request's rows."""
    for attempt in range(1, attempts + 1):
        try:
            result = operation()
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            if attempt == attempts:
                raise
        else:
            return result
    raise AssertionError("unreachable")  # pragma: no cover
