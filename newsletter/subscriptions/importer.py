"""CSV import of subscribers, streamed in batches.

Columns: ``email`` (required), ``name``, ``organisation`` (``organization`` is read
too), ``language`` (a tag of LANGUAGES, e.g. ``fa-AF``; empty: the default); other
columns are ignored and named in the report. Each row is validated on its own: a bad
row is rejected with its line number and reason, the rest go in. A file that cannot be
read as CSV text stops the import (``ImportAborted``) and the caller rolls back, so
nothing stored before is touched.

The file is read once, as a stream: rows are validated in Python and written a batch
at a time by ``bulk.BatchWriter`` with a few statements per batch, so memory stays
flat and the cost per row is a few microseconds. ``on_progress`` hears how many rows
are done after each batch (for a progress bar, or a background job's status).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newsletter import i18n
from newsletter.subscriptions.bulk import BatchOutcome, BatchWriter, Row
from newsletter.subscriptions.emails import send_confirmations
from newsletter.subscriptions.models import MailingList
from newsletter.timeutil import utcnow
from newsletter.validation import InvalidInput, clean_text, normalize_address

BATCH_SIZE = 5000
_NOT_UTF8 = "the file is not UTF-8 text (save it as 'CSV UTF-8')"
_COLUMNS = {
    "email": "email",
    "name": "name",
    "organisation": "organisation",
    "organization": "organisation",
    "language": "language",
}


class ImportAborted(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # rows naming an address an earlier row of the file named
    rejected: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.added + self.updated + self.unchanged + self.merged + len(self.rejected)


def import_subscribers(
    source: Iterable[bytes],
    *,
    lists: list[MailingList],
    consent_note: str | None,
    now: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import rows from a CSV file opened in binary mode (UTF-8, with or without BOM).

    With ``consent_note`` new people are active and the note is their consent
    evidence; without it they are pending and each gets a confirmation link (queued
    in this transaction, sent after the commit). Flushes, never commits.
    """
    report = ImportReport()
    writer = BatchWriter(lists, consent_note, now or utcnow())
    batch: dict[str, Row] = {}  # by address key: a batch names each address once
    for row in _rows(_decoded(source), report):
        if row[2] in batch:
            report.merged += 1
            continue
        batch[row[2]] = row
        if len(batch) >= batch_size:
            _count(writer.write(list(batch.values())), lists, report)
            batch = {}
            if on_progress is not None:
                on_progress(report.rows)
    if batch:
        _count(writer.write(list(batch.values())), lists, report)
    writer.close()
    report.rejected.sort()
    if on_progress is not None:
        on_progress(report.rows)
    return report


@dataclass
class Preview:
    """The start of a file, as the importer reads it: for staff to check before importing."""

    encoding: str
    header: list[str]
    columns: list[str | None]  # what each header names ("email", …), None: ignored
    rows: list[list[str]]


def preview(source: Iterable[bytes], rows: int = 5) -> Preview:
    """The header and first ``rows`` rows of a CSV file, read by the rules of
    ``import_subscribers`` (so a file it would refuse as a whole is refused here:
    ``ImportAborted``)."""
    lines = iter(source)
    first = next(lines, b"")
    encoding = "UTF-8 with BOM" if first.startswith(b"\xef\xbb\xbf") else "UTF-8"
    report = ImportReport()
    reader = csv.reader(_decoded(_chain(first, lines)))
    header = _header(reader, report)
    shown: list[list[str]] = []
    try:
        for values in reader:
            if len(shown) >= rows:
                break
            if any(value.strip() for value in values):
                shown.append(values)
    except csv.Error as exc:
        raise ImportAborted(reader.line_num, f"not valid CSV ({exc})") from exc
    columns = [_COLUMNS.get(name.strip().lower()) for name in header]
    return Preview(encoding=encoding, header=header, columns=columns, rows=shown)


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


def _header(reader: Any, report: ImportReport) -> list[str]:
    """The first line: it must name the columns, one of them ``email``."""
    try:
        header: list[str] = next(reader)
    except StopIteration:
        raise ImportAborted(1, "the file is empty") from None
    except csv.Error as exc:
        raise ImportAborted(1, f"not valid CSV ({exc})") from exc
    columns = [_COLUMNS.get(name.strip().lower()) for name in header]
    if "email" not in columns:
        raise ImportAborted(1, "the first line must name the columns, one of them 'email'")
    report.ignored_columns = [
        name for name, column in zip(header, columns, strict=True) if column is None
    ]
    return header


def _count(outcome: BatchOutcome, lists: list[MailingList], report: ImportReport) -> None:
    report.added += outcome.added
    report.updated += outcome.updated
    report.unchanged += outcome.unchanged
    report.merged += outcome.merged
    report.rejected += outcome.rejected
    send_confirmations(outcome.to_confirm, lists)


def _decoded(source: Iterable[bytes]) -> Iterator[str]:
    """Text lines, decoded one by one so that a bad byte is reported on its own line."""
    for number, raw in enumerate(source, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportAborted(number, _NOT_UTF8) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def _rows(lines: Iterable[str], report: ImportReport) -> Iterator[Row]:
    reader = csv.reader(lines)
    header = _header(reader, report)
    columns = [_COLUMNS.get(name.strip().lower()) for name in header]

    line = reader.line_num
    while True:
        start = line + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportAborted(start, f"not valid CSV ({exc})") from exc
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue  # blank line
        if len(values) > len(columns):
            report.rejected.append((start, "more fields than the header has columns"))
            continue
        record = {column: value for column, value in zip(columns, values, strict=False) if column}
        try:
            address = normalize_address(record.get("email", ""))
            yield (
                start,
                address.email,
                address.key,
                clean_text(record.get("name"), "name"),
                clean_text(record.get("organisation"), "organisation"),
                i18n.check_language(record.get("language")),
            )
        except InvalidInput as exc:
            report.rejected.append((start, str(exc)))
