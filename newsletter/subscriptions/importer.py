"""CSV import of subscribers, streamed in batches.

Columns: ``email`` (required), ``name``, ``organisation`` (``organization`` is read
too); other columns are ignored and named in the report. Each row is validated on
its own: a bad row is rejected with its line number and reason, the rest go in. A
file that cannot be read as CSV text stops the import (``ImportAborted``) and the
caller rolls back, so nothing stored before is touched.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.subscriptions.models import ConsentAction, MailingList, Subscriber
from newsletter.subscriptions.roster import apply_row
from newsletter.timeutil import utcnow
from newsletter.validation import Address, InvalidInput, clean_text, normalize_address

BATCH_SIZE = 500
_NOT_UTF8 = "the file is not UTF-8 text (save it as 'CSV UTF-8')"
_COLUMNS = {
    "email": "email",
    "name": "name",
    "organisation": "organisation",
    "organization": "organisation",
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


@dataclass
class _Row:
    line: int
    address: Address
    name: str
    organisation: str


def import_subscribers(
    source: Iterable[bytes],
    *,
    lists: list[MailingList],
    consent_note: str | None,
    now: datetime | None = None,
) -> ImportReport:
    """Import rows from a CSV file opened in binary mode (UTF-8, with or without BOM).

    With ``consent_note`` new people are active and the note is their consent
    evidence; without it they are pending and each gets a confirmation link.
    """
    now = now or utcnow()
    report = ImportReport()
    list_ids = [mailing_list.id for mailing_list in lists]
    seen: set[str] = set()
    batch: list[_Row] = []
    for row in _rows(_decoded(source), report):
        if row.address.key in seen:
            report.merged += 1
            continue
        seen.add(row.address.key)
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            _apply_batch(batch, list_ids, consent_note, now, report)
            batch = []
    if batch:
        _apply_batch(batch, list_ids, consent_note, now, report)
    return report


def _decoded(source: Iterable[bytes]) -> Iterator[str]:
    """Text lines, decoded one by one so that a bad byte is reported on its own line."""
    for number, raw in enumerate(source, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportAborted(number, _NOT_UTF8) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def _rows(lines: Iterable[str], report: ImportReport) -> Iterator[_Row]:
    reader = csv.reader(lines)
    try:
        header = next(reader)
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
            yield _Row(
                line=start,
                address=normalize_address(record.get("email", "")),
                name=clean_text(record.get("name"), "name"),
                organisation=clean_text(record.get("organisation"), "organisation"),
            )
        except InvalidInput as exc:
            report.rejected.append((start, str(exc)))


def _apply_batch(
    batch: list[_Row],
    list_ids: list[int],
    consent_note: str | None,
    now: datetime,
    report: ImportReport,
) -> None:
    lists = list(db.session.scalars(sa.select(MailingList).where(MailingList.id.in_(list_ids))))
    keys = [row.address.key for row in batch]
    existing = {
        subscriber.email_key: subscriber
        for subscriber in db.session.scalars(
            sa.select(Subscriber).where(Subscriber.email_key.in_(keys))
        )
    }
    for row in batch:
        try:  # apply_row refuses a row before it writes anything for it
            outcome = apply_row(
                row.address,
                existing.get(row.address.key),
                name=row.name,
                organisation=row.organisation,
                lists=lists,
                consent_note=consent_note,
                action=ConsentAction.IMPORTED,
                now=now,
            )
        except InvalidInput as exc:
            report.rejected.append((row.line, str(exc)))
            continue
        if outcome.created:
            report.added += 1
        elif outcome.changed:
            report.updated += 1
        else:
            report.unchanged += 1
    db.session.flush()
    db.session.expunge_all()  # flushed already: keep memory flat on large files
