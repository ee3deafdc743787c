"""Report files on disk: in ``REPORTS_STORAGE_DIR`` (the instance folder by default,
never under ``static/``), each under a name we generate, written whole or not at all.

A file is streamed to a temporary name while it is counted and hashed, checked for
its real type, then renamed. If the transaction that records it rolls back, the file
is removed again, so no file exists without its row.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from newsletter.extensions import db
from newsletter.reports.filetypes import FileKind, detect
from newsletter.validation import InvalidInput

_CHUNK = 1024 * 1024
_NEW_FILES = "newsletter.new_report_files"
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(pdf|docx|odt)$")


@dataclass(frozen=True)
class StoredFile:
    name: str
    kind: FileKind
    size: int
    sha256: str


def folder() -> Path:
    path = Path(current_app.config["REPORTS_STORAGE_DIR"])
    path.mkdir(parents=True, exist_ok=True, mode=0o750)
    return path


def megabytes(size: int) -> str:
    """A limit in MB, as configured (``25 MB``, ``0.05 MB``)."""
    value = size / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 10 else f"{value:.2g} MB"  # noqa: PLR2004 - display


def file_size(size: int) -> str:
    """A file's size for people: ``6.7 KB``, ``2.4 MB``."""
    if size < 1024 * 1024:
        return f"{max(size / 1024, 0.1):.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def store(stream: BinaryIO) -> StoredFile:
    """Write ``stream`` to the storage folder; InvalidInput (nothing kept) if it is
    empty, over ``REPORT_MAX_BYTES`` or not an accepted type."""
    limit = int(current_app.config["REPORT_MAX_BYTES"])
    digest = hashlib.sha256()
    size = 0
    descriptor, temporary = tempfile.mkstemp(prefix=".upload-", dir=folder())
    try:
        with os.fdopen(descriptor, "w+b") as handle:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(
                        f"The file is larger than {megabytes(limit)}, the most a report may be.",
                        "file",
                    )
                digest.update(chunk)
                handle.write(chunk)
            if size == 0:
                raise InvalidInput(_l("The file is empty."), "file")
            handle.flush()
            os.fsync(handle.fileno())
            kind = detect(handle, size)
        name = f"{uuid.uuid4().hex}.{kind.extension}"
        os.chmod(temporary, 0o640)
        os.replace(temporary, folder() / name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _listen()
    db.session.connection()  # a transaction to roll back (a rollback without one is silent)
    db.session.info.setdefault(_NEW_FILES, []).append(name)
    return StoredFile(name=name, kind=kind, size=size, sha256=digest.hexdigest())


def path_of(stored_name: str) -> Path:
    """Where a stored file is (names are ours: nothing else can be asked for)."""
    if not _STORED_NAME.match(stored_name):
        raise ValueError(f"not a stored report name: {stored_name!r}")
    return folder() / stored_name


def _forget_new_files(session: Session, *_args: Any) -> None:
    session.info.pop(_NEW_FILES, None)


def _remove_new_files(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back transaction leaves no file behind."""
    if previous.parent is not None:  # a savepoint: the outer transaction may still commit
        return
    for name in session.info.pop(_NEW_FILES, []):
        (Path(current_app.config["REPORTS_STORAGE_DIR"]) / name).unlink(missing_ok=True)


def _listen() -> None:
    """Added once per process, on the scoped session (as the mail queue's listeners)."""
    for name, listener in (
        ("after_commit", _forget_new_files),
        ("after_soft_rollback", _remove_new_files),
    ):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
