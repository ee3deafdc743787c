"""Imports started from the staff pages: the uploaded file, its preview, the options, and
the run in the background, with the same importer as ``flask subscribers import``.

A job goes ``uploaded`` (file stored, previewed) -> ``queued`` (options chosen) ->
``running`` -> ``done`` or ``failed``. The import itself is one transaction, as on the
command line: a file that turns out unreadable half-way, a dry run, or a crash leave
nothing behind. The job row is written outside that transaction: on PostgreSQL through
a connection of its own after each batch (progress and a heartbeat any process can
read); on SQLite, which has one writer, the progress is kept in this process's memory
and the row is written before and after.

Imports run one at a time: in this process a lock, and on PostgreSQL an advisory lock
held by the import's transaction, so two imports of the same list (from two browsers,
two processes, or Celery workers) never race for the same address; the second waits,
shown as queued, then sees what the first added.

A job whose process died stays "running" in its row; ``mark_stale`` (called whenever
jobs are shown) marks it failed: its process is gone (same machine), or it has not been
heard from for ``IMPORT_STALE_SECONDS``.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.engine import CursorResult

from newsletter.extensions import db
from newsletter.reports.record import _cell as spreadsheet_safe
from newsletter.reports.storage import megabytes
from newsletter.subscriptions.importer import ImportAborted, Preview, import_subscribers, preview
from newsletter.subscriptions.models import ImportJob, ImportStatus, MailingList
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_STORED_NAME = f"{'[0-9a-f]' * 32}.csv"
_LOCK_KEY = 0x6E6C696D  # the advisory lock of subscriber imports ("nlim")
_SHOWN_REJECTIONS = 200

_run_lock = threading.Lock()  # one import at a time in this process
_state_lock = threading.Lock()
_here: set[int] = set()  # jobs queued or running in this process
_live: dict[int, int] = {}  # rows done, for jobs running in this process
_PROCESS = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

jobs: sa.Table = ImportJob.__table__  # type: ignore[assignment]


# -- the file ---------------------------------------------------------------------------


def folder() -> Path:
    """Uploaded files: under the instance folder, never served."""
    path = Path(current_app.instance_path) / "imports"
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    return path


def path_of(job: ImportJob) -> Path:
    if not Path(job.stored_name).match(_STORED_NAME) or "/" in job.stored_name:
        raise ValueError(f"not a stored import name: {job.stored_name!r}")
    return folder() / job.stored_name


def store_upload(stream: IO[bytes], file_name: str, staff_id: int | None, staff: str) -> ImportJob:
    """Keep an uploaded CSV file and record it as a job; InvalidInput (nothing kept) if it
    is empty, too large, not UTF-8 CSV or has no ``email`` column."""
    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    size = lines = 0
    last = b"\n"
    descriptor, temporary = tempfile.mkstemp(prefix=".upload-", dir=folder())
    try:
        with os.fdopen(descriptor, "wb") as handle:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(
                        f"The file is larger than {megabytes(limit)}, "
                        "the most an import may be. Split it, or use the command line.",
                        "file",
                    )
                lines += chunk.count(b"\n")
                last = chunk[-1:]
                handle.write(chunk)
        if size == 0:
            raise InvalidInput("The file is empty.", "file")
        lines += last != b"\n"
        try:
            with open(temporary, "rb") as handle:
                found = preview(handle)
        except ImportAborted as exc:
            raise InvalidInput(f"This file cannot be imported: {exc}.", "file") from exc
        name = f"{uuid.uuid4().hex}.csv"
        os.replace(temporary, folder() / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    job = ImportJob(
        created_by_id=staff_id,
        created_by=staff,
        file_name=_clean_name(file_name),
        stored_name=name,
        size=size,
        encoding=found.encoding,
        lines=max(lines - 1, 0),
    )
    db.session.add(job)
    db.session.flush()
    return job


def _clean_name(name: str) -> str:
    name = "".join(ch for ch in os.path.basename(name or "") if ch.isprintable())
    return name.strip()[:255] or "upload.csv"


def file_preview(job: ImportJob) -> Preview | None:
    """The first rows of the job's file (None once the file is gone)."""
    try:
        with path_of(job).open("rb") as handle:
            return preview(handle)
    except (OSError, ImportAborted):
        return None


# -- starting ---------------------------------------------------------------------------


def start(
    job: ImportJob, lists: list[MailingList], *, consent_note: str | None, dry_run: bool
) -> None:
    """Choose the options and queue the job. ``consent_note`` None: send each new person
    a confirmation. Flushes; the caller commits, then calls ``dispatch``."""
    if job.status != ImportStatus.UPLOADED:
        raise InvalidInput("This import has started already.")
    if not lists:
        raise InvalidInput("Choose at least one list to import into.", "lists")
    if consent_note is not None:
        consent_note = consent_note.strip()
        if not consent_note:
            raise InvalidInput(
                "Say how and when these people consented: the note is kept as evidence.",
                "consent_note",
            )
    if not path_of(job).is_file():
        raise InvalidInput("The uploaded file is gone: upload it again.")
    job.lists = ",".join(sorted(mailing_list.slug for mailing_list in lists))
    job.consent_note = consent_note
    job.dry_run = dry_run
    job.status = ImportStatus.QUEUED
    db.session.flush()


def again(job: ImportJob) -> ImportJob:
    """A new job for the same file and options, for real (after a dry run)."""
    if not job.dry_run or job.status != ImportStatus.DONE or not path_of(job).is_file():
        raise InvalidInput("Only a finished dry run whose file is still here can be run again.")
    copy = ImportJob(
        created_by_id=job.created_by_id,
        created_by=job.created_by,
        file_name=job.file_name,
        stored_name=job.stored_name,
        size=job.size,
        encoding=job.encoding,
        lines=job.lines,
        lists=job.lists,
        consent_note=job.consent_note,
        dry_run=False,
        status=ImportStatus.QUEUED,
    )
    db.session.add(copy)
    db.session.flush()
    return copy


def dispatch(app: Flask, job_id: int) -> None:
    """Have the job run: a Celery task when a broker is configured, else a thread of
    this process (the request that started it returns at once)."""
    celery = app.extensions.get("celery")
    if celery is not None:
        celery.send_task("newsletter.tasks.import_subscribers", args=[job_id])
        return
    with _state_lock:
        _here.add(job_id)
    with app.app_context():
        db.session.execute(jobs.update().where(jobs.c.id == job_id).values(runner=_PROCESS))
        db.session.commit()
        db.session.remove()
    threading.Thread(target=run, args=(app, job_id), name=f"import-{job_id}", daemon=True).start()


def idle() -> bool:
    """Whether no import is queued or running in this process (its mail sent too)."""
    with _state_lock:
        return not _here


# -- running ----------------------------------------------------------------------------


class _Status:
    """Writes the job's row beside the import's transaction (PostgreSQL) or keeps the
    progress in memory (SQLite)."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.separate = db.engine.dialect.name == "postgresql"
        self.connection = db.engine.connect() if self.separate else None

    def write(self, **values: Any) -> None:
        if self.connection is None:
            return
        self.connection.execute(jobs.update().where(jobs.c.id == self.job_id).values(**values))
        self.connection.commit()

    def progress(self, rows: int) -> None:
        with _state_lock:
            _live[self.job_id] = rows
        self.write(rows_done=rows, heartbeat_at=utcnow())

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def run(app: Flask, job_id: int) -> None:
    """Run one queued job to its end (done or failed); logs what it cannot tell anyone."""
    try:
        with app.app_context(), _run_lock:
            _run(job_id)
    except Exception:
        log.exception("import %s failed", job_id)
        with app.app_context():
            db.session.rollback()
            _finish(job_id, ImportStatus.FAILED, error="An error stopped the import.")
    finally:
        with _state_lock:
            _here.discard(job_id)
            _live.pop(job_id, None)
        with app.app_context():
            db.session.remove()


def _run(job_id: int) -> None:
    claimed: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.status == ImportStatus.QUEUED.value)
        .values(
            status=ImportStatus.RUNNING.value,
            runner=_PROCESS,
            started_at=utcnow(),
            heartbeat_at=utcnow(),
        )
    )
    db.session.commit()
    if not claimed.rowcount:
        return  # run elsewhere already, or no longer queued
    job = db.session.get(ImportJob, job_id)
    if job is None:
        return
    slugs = [slug for slug in job.lists.split(",") if slug]
    lists = list(db.session.scalars(sa.select(MailingList).where(MailingList.slug.in_(slugs))))
    path, dry_run, note = path_of(job), job.dry_run, job.consent_note
    db.session.commit()
    status = _Status(job_id)
    try:
        _wait_for_turn(status)
        with path.open("rb") as handle:
            report = import_subscribers(
                handle, lists=lists, consent_note=note, on_progress=status.progress
            )
    except ImportAborted as exc:
        db.session.rollback()
        _finish(job_id, ImportStatus.FAILED, error=f"Nothing was imported: {exc}.")
        return
    except BaseException:
        db.session.rollback()
        raise
    finally:
        status.close()
    counts: dict[str, Any] = {
        "rows_done": report.rows, "added": report.added, "updated": report.updated,
        "unchanged": report.unchanged, "merged": report.merged,
        "rejected_count": len(report.rejected),
        "rejected": [[line, reason] for line, reason in report.rejected],
        "ignored_columns": ", ".join(report.ignored_columns),
    }  # fmt: skip
    if dry_run:
        db.session.rollback()
    else:
        # The counts commit with the rows they count: both or neither.
        _finish(job_id, ImportStatus.DONE, commit=False, **counts)
        db.session.commit()
        path.unlink(missing_ok=True)
        return
    _finish(job_id, ImportStatus.DONE, **counts)


def _wait_for_turn(status: _Status) -> None:
    """Begin the import's transaction holding the right to write: on PostgreSQL the
    imports' advisory lock (held until it ends), saying meanwhile that this job is alive
    and waiting."""
    if not status.separate:
        # SQLite: take the write lock first (a transaction that read before it writes
        # fails at once if another connection wrote meanwhile; one that writes first
        # waits its turn, busy_timeout, like any writer).
        db.session.execute(
            jobs.update().where(jobs.c.id == status.job_id).values(heartbeat_at=utcnow())
        )
        return
    while not db.session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(_LOCK_KEY))):
        status.write(status=ImportStatus.QUEUED.value, heartbeat_at=utcnow())
        time.sleep(0.2)
    status.write(status=ImportStatus.RUNNING.value, heartbeat_at=utcnow())


def _finish(job_id: int, outcome: ImportStatus, *, commit: bool = True, **values: Any) -> None:
    db.session.execute(
        jobs.update()
        .where(jobs.c.id == job_id)
        .values(status=outcome.value, finished_at=utcnow(), heartbeat_at=utcnow(), **values)
    )
    if commit:
        db.session.commit()


# -- reading ----------------------------------------------------------------------------


def recent_jobs(limit: int = 20) -> list[ImportJob]:
    mark_stale()
    query = sa.select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def mark_stale() -> int:
    """Mark failed the jobs whose process stopped without finishing them; commits if any."""
    now = utcnow()
    limit = timedelta(seconds=float(current_app.config["IMPORT_STALE_SECONDS"]))
    rows = db.session.execute(
        sa.select(jobs.c.id, jobs.c.runner, jobs.c.heartbeat_at).where(
            jobs.c.status.in_([ImportStatus.QUEUED.value, ImportStatus.RUNNING.value]),
            jobs.c.runner.is_not(None),
        )
    ).all()
    stale = [
        job_id for job_id, runner, heard in rows if _is_stale(job_id, runner, heard, now, limit)
    ]
    if stale:
        db.session.execute(
            jobs.update()
            .where(
                jobs.c.id.in_(stale),
                jobs.c.status.in_([ImportStatus.QUEUED.value, ImportStatus.RUNNING.value]),
            )
            .values(
                status=ImportStatus.FAILED.value,
                finished_at=now,
                error="The process running this import stopped; nothing of it was kept. "
                "Start it again.",
            )
        )
        db.session.commit()
    return len(stale)


def _is_stale(job_id: int, runner: str, heard: Any, now: Any, limit: timedelta) -> bool:
    host, _, rest = runner.partition(":")
    pid_text = rest.partition(":")[0]
    if host == _PROCESS.partition(":")[0] and pid_text.isdigit():
        if runner == _PROCESS:
            with _state_lock:
                return job_id not in _here
        return not _alive(int(pid_text))
    return heard is None or now - heard > limit


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def progress(job: ImportJob) -> dict[str, Any]:
    """What the progress bar shows."""
    with _state_lock:
        live = _live.get(job.id)
    done = max(job.rows_done, live or 0)
    return {
        "status": job.status.value,
        "done": done,
        "total": max(job.lines, done),
        "added": job.added,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "merged": job.merged,
        "rejected": job.rejected_count,
        "error": job.error,
    }


def rejections(job: ImportJob, limit: int | None = _SHOWN_REJECTIONS) -> list[tuple[int, str]]:
    rows = [(int(line), str(reason)) for line, reason in job.rejected or []]
    return rows if limit is None else rows[:limit]


def rejections_csv(job: ImportJob) -> Iterator[str]:
    """The rejected rows as CSV: line, reason."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "reason"])
    for line, reason in rejections(job, None):
        writer.writerow([line, spreadsheet_safe(reason)])
    yield buffer.getvalue()
