"""Database setup (the models' registry, per-backend connection settings) and the few
statements every domain writes the same way: insert-or-ignore, compare-and-set, a
retried commit."""

import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


def by_public_id(model: type[T], public_id: str) -> T | None:
    """The row of ``model`` whose ``public_id`` (a UUID, in signed links) is this hex
    string; None for no row or a value that is not a UUID."""
    try:
        key = uuid.UUID(hex=public_id)
    except ValueError:
        return None
    column = model.public_id  # type: ignore[attr-defined]
    return db.session.scalar(sa.select(model).where(column == key))


def rows_changed(statement: sa.Update | sa.Delete, session: Session | None = None) -> int:
    """Run a conditional UPDATE or DELETE and return how many rows it changed."""
    result = (session or db.session).execute(statement)
    return int(cast(CursorResult[Any], result).rowcount or 0)


def compare_and_set(instance: Any, condition: sa.ColumnElement[bool], /, **values: Any) -> bool:
    """Set ``values`` on ``instance``'s row only if ``condition`` still holds there, in one
    UPDATE: of two requests acting at once (a double click, a worker and a staff member)
    only one changes the row. Returns whether this call did; either way the attributes
    reload, so ``instance`` shows what the database holds."""
    model = type(instance)
    db.session.flush()
    changed = rows_changed(
        sa.update(model)
        .where(model.id == instance.id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(instance, list(values))
    return changed == 1


def is_unique_violation(error: IntegrityError) -> bool:
    """Whether the database refused a duplicate of a unique key (and not, say, a NULL)."""
    original = error.orig
    return (
        getattr(original, "sqlstate", None) == "23505"  # PostgreSQL unique_violation
        or getattr(original, "sqlite_errorname", None)
        in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
    )


def commit_with_retry(operation: Callable[[], T], attempts: int = 3) -> T:
    """Run ``operation`` and commit; if a concurrent request wrote the same rows first
    (a unique key taken between our read and our write, as a double-click does), roll
    back and run it again: the next run sees the other request's rows. Other integrity
    errors are faults, not races: they propagate at once."""
    for attempt in range(1, attempts + 1):
        try:
            result = operation()
            db.session.commit()
        except IntegrityError as error:
            db.session.rollback()
            if attempt == attempts or not is_unique_violation(error):
                raise
        else:
            return result
    raise AssertionError("unreachable")  # pragma: no cover
