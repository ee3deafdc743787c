"""The set-based half of an import: each batch of validated rows is written with a
dozen statements, whatever its size, instead of a few per row.

The batch goes into a temporary staging table (``COPY`` on PostgreSQL, one
``executemany`` on SQLite); then statements over that table merge the file's
duplicates, refuse the people who left (unsubscribed, complained, bounced, erased),
complete existing subscribers, insert new ones, their memberships and their consent
evidence, and return who must be asked to confirm. The rules are the ones
``roster.apply_row`` applies to one person; this is the same decision for many.

Everything runs in the caller's transaction: a rollback (a bad file, ``--dry-run``)
leaves nothing behind, and the staging tables are the caller's session's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from newsletter.database import insert_ignoring
from newsletter.dbtypes import UTCDateTime
from newsletter.extensions import db
from newsletter.subscriptions.models import (
    ConsentAction,
    ConsentEvent,
    MailingList,
    Membership,
    Subscriber,
    SubscriberSource,
    SubscriberStatus,
    Suppression,
)
from newsletter.subscriptions.roster import CONFIRMATION_ASKED, ERASED, REFUSED, refusal
from newsletter.subscriptions.suppression import suppression_hasher

subscribers: sa.Table = Subscriber.__table__  # type: ignore[assignment]
memberships: sa.Table = Membership.__table__  # type: ignore[assignment]
events: sa.Table = ConsentEvent.__table__  # type: ignore[assignment]
suppressions: sa.Table = Suppression.__table__  # type: ignore[assignment]
mailing_lists: sa.Table = MailingList.__table__  # type: ignore[assignment]

# Staging tables of one import; temporary, so each session has its own. Not in the
# models' metadata: they are no part of the schema.
_staging = sa.MetaData()
staged = sa.Table(
    "import_rows",
    _staging,
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("email_key", sa.String(254), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("organisation", sa.String(200), nullable=False),
    sa.Column("language", sa.String(35), nullable=False),
    sa.Column("address_hash", sa.String(64)),
    sa.Column("subscriber_id", sa.Integer),  # set once the person exists
    sa.Column("status", sa.String(16)),  # the status they had; NULL: new to us
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
seen = sa.Table(  # every address of the file so far: later rows naming one are merged
    "import_seen",
    _staging,
    sa.Column("email_key", sa.String(254), primary_key=True),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_COPY_SQL = (
    "COPY import_rows (line, email, email_key, name, organisation, language, address_hash)"
    " FROM STDIN"
)
_INSERT_SQL = (
    "INSERT INTO import_rows (line, email, email_key, name, organisation, language,"
    " address_hash) VALUES (?, ?, ?, ?, ?, ?, ?)"
)

# (line, email, email key, name, organisation, language): a row that passed validation.
Row = tuple[int, str, str, str, str, str]


@dataclass
class BatchOutcome:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    to_confirm: list[tuple[int, uuid.UUID, str, str]] = field(default_factory=list)


class BatchWriter:
    """Writes batches of one import; ``consent_note`` None means new people are pending
    and must confirm (``BatchOutcome.to_confirm``)."""

    def __init__(
        self, lists: Sequence[MailingList], consent_note: str | None, now: datetime
    ) -> None:
        self.list_ids = sorted({mailing_list.id for mailing_list in lists})
        self.list_slugs = ",".join(sorted({mailing_list.slug for mailing_list in lists}))
        self.consent_note = consent_note
        self.now = sa.literal(now, UTCDateTime())
        self.connection: Connection = db.session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.address_hash = suppression_hasher()
        for table in (staged, seen):
            self.connection.execute(sa.schema.CreateTable(table, if_not_exists=True))
            self.connection.execute(table.delete())  # SQLite: left from an earlier import

    def close(self) -> None:
        """Empty the staging tables (PostgreSQL drops them at the end of the transaction;
        SQLite keeps temporary tables for the life of the connection)."""
        if not self.postgres:
            for table in (staged, seen):
                self.connection.execute(table.delete())

    def write(self, rows: Sequence[Row]) -> BatchOutcome:
        """Apply a batch of rows whose addresses differ from each other."""
        outcome = BatchOutcome()
        erasures = self.connection.scalar(sa.select(suppressions.c.id).limit(1)) is not None
        self._stage(rows, erasures)
        outcome.merged = self._merge_duplicates()
        self._link_existing()
        outcome.rejected = self._refuse(erasures)
        existing, changed = self._count_changes()
        outcome.updated, outcome.unchanged = changed, existing - changed
        self._complete_existing(erasures)
        self._add_memberships()
        outcome.added, outcome.to_confirm = self._insert_new()
        return outcome

    # -- the steps ----------------------------------------------------------------------
    def _stage(self, rows: Sequence[Row], erasures: bool) -> None:
        if self.postgres:  # a fresh file: DELETE would leave dead rows to scan past
            self.connection.exec_driver_sql("TRUNCATE import_rows")
        else:
            self.connection.execute(staged.delete())
        hashed = self.address_hash if erasures else (lambda _key: None)
        records = [(*row, hashed(row[2])) for row in rows]
        cursor = self.connection.connection.cursor()
        try:
            if self.postgres:
                with cursor.copy(_COPY_SQL) as copy:
                    for record in records:
                        copy.write_row(record)
            else:
                cursor.executemany(_INSERT_SQL, records)
        finally:
            cursor.close()

    def _merge_duplicates(self) -> int:
        merged = self.connection.execute(
            staged.delete().where(staged.c.email_key.in_(sa.select(seen.c.email_key)))
        )
        self.connection.execute(
            seen.insert().from_select(["email_key"], sa.select(staged.c.email_key))
        )
        return int(merged.rowcount or 0)

    def _link_existing(self) -> None:
        self.connection.execute(
            staged.update()
            .values(subscriber_id=subscribers.c.id, status=subscribers.c.status)
            .where(subscribers.c.email_key == staged.c.email_key)
        )

    def _refuse(self, erasures: bool) -> list[tuple[int, str]]:
        """Take out the rows of people who left or were erased, with the reason."""
        refused: sa.ColumnElement[bool] = staged.c.status.in_([s.value for s in REFUSED])
        rejected = [
            (line, refusal(status, since))
            for line, status, since in self.connection.execute(
                sa.select(staged.c.line, subscribers.c.status, subscribers.c.status_changed_at)
                .join(subscribers, subscribers.c.id == staged.c.subscriber_id)
                .where(refused)
            )
        ]
        if erasures:
            erased = sa.and_(
                staged.c.subscriber_id.is_(None),
                staged.c.address_hash.in_(sa.select(suppressions.c.address_hash)),
            )
            rejected += [
                (line, ERASED)
                for line in self.connection.scalars(sa.select(staged.c.line).where(erased))
            ]
            refused = sa.or_(refused, erased)
        if rejected:
            self.connection.execute(staged.delete().where(refused))
        return rejected

    def _count_changes(self) -> tuple[int, int]:
        """(existing people in the batch, those this import changes)."""
        missing_list = sa.select(sa.func.count()).select_from(memberships).where(
            memberships.c.subscriber_id == staged.c.subscriber_id,
            memberships.c.list_id.in_(self.list_ids),
        ).scalar_subquery() < len(self.list_ids)
        changes = [
            sa.and_(subscribers.c.name == "", staged.c.name != ""),
            sa.and_(subscribers.c.organisation == "", staged.c.organisation != ""),
            sa.and_(subscribers.c.language == "", staged.c.language != ""),
            missing_list,
        ]
        if self.consent_note is not None:
            changes.append(staged.c.status == SubscriberStatus.PENDING.value)
        existing, changed = self.connection.execute(
            sa.select(sa.func.count(), sa.func.sum(sa.case((sa.or_(*changes), 1), else_=0)))
            .select_from(staged)
            .join(subscribers, subscribers.c.id == staged.c.subscriber_id)
        ).one()
        return int(existing or 0), int(changed or 0)

    def _complete_existing(self, erasures: bool) -> None:
        """Fill an empty name, organisation or language; with a consent note, activate the
        pending."""
        for column in ("name", "organisation", "language"):
            self.connection.execute(
                subscribers.update()
                .values({column: staged.c[column]})
                .where(
                    subscribers.c.id == staged.c.subscriber_id,
                    subscribers.c[column] == "",
                    staged.c[column] != "",
                )
            )
        if self.consent_note is None:
            return
        pending = staged.c.status == SubscriberStatus.PENDING.value
        self._record(ConsentAction.IMPORTED, self.consent_note, pending)
        if erasures:  # they have consented now: off the suppression list
            self.connection.execute(
                suppressions.delete().where(
                    suppressions.c.address_hash.in_(sa.select(staged.c.address_hash).where(pending))
                )
            )
        self.connection.execute(
            subscribers.update()
            .values(status=SubscriberStatus.ACTIVE, status_changed_at=self.now, bounce_score=0.0)
            .where(
                subscribers.c.id == staged.c.subscriber_id,
                pending,
                subscribers.c.status == SubscriberStatus.PENDING,
            )
        )

    def _insert_new(self) -> tuple[int, list[tuple[int, uuid.UUID, str, str]]]:
        """Insert the people new to us with their memberships and consent evidence;
        return how many, and each one's (id, public id, address, language) when they must
        confirm (people imported with consent need no mail: their rows are not read back)."""
        active = self.consent_note is not None
        status = SubscriberStatus.ACTIVE if active else SubscriberStatus.PENDING
        columns = {
            "public_id": self._new_public_id(),
            "email": staged.c.email,
            "email_key": staged.c.email_key,
            "name": staged.c.name,
            "organisation": staged.c.organisation,
            "language": staged.c.language,
            "status": sa.literal(status.value),
            "created_at": self.now,
            "status_changed_at": self.now,
            "confirmation_sent_at": sa.null() if active else self.now,
            "bounce_score": sa.literal(0.0),
            "source": sa.literal(SubscriberSource.IMPORT.value),
        }
        insert = subscribers.insert().from_select(
            list(columns),
            sa.select(*columns.values()).where(staged.c.subscriber_id.is_(None)),
        )
        returned = (
            subscribers.c.id,
            subscribers.c.public_id,
            subscribers.c.email,
            subscribers.c.name,
            subscribers.c.language,
        )
        if active:
            action, note = ConsentAction.IMPORTED, self.consent_note or ""
        else:
            action, note = ConsentAction.REQUESTED, CONFIRMATION_ASKED.format("imported")
        evidence = {"action": action.value, "lists": self.list_slugs, "note": note}
        if self.postgres:  # one statement: the new rows feed the other inserts directly
            new = insert.returning(*returned).cte("new")
            joined = memberships.insert().from_select(
                ["subscriber_id", "list_id", "created_at"],
                sa.select(new.c.id, mailing_lists.c.id, self.now).select_from(
                    new.join(mailing_lists, mailing_lists.c.id.in_(self.list_ids))
                ),
            )
            recorded = events.insert().from_select(
                ["subscriber_id", "at", *evidence],
                sa.select(new.c.id, self.now, *map(sa.literal, evidence.values())),
            )
            ctes = (joined.cte("joined"), recorded.cte("recorded"))
            if active:
                count = self.connection.scalar(
                    sa.select(sa.func.count()).select_from(new).add_cte(*ctes)
                )
                return int(count or 0), []
            rows = self.connection.execute(
                sa.select(new.c.id, new.c.public_id, new.c.email, new.c.language).add_cte(*ctes)
            ).all()
            return len(rows), [(row[0], row[1], row[2], row[3]) for row in rows]
        # SQLite runs in this process: plain statements over the staging table are cheapest.
        fresh = staged.c.status.is_(None)
        self.connection.execute(insert)
        self.connection.execute(
            staged.update()
            .values(subscriber_id=subscribers.c.id)
            .where(fresh, subscribers.c.email_key == staged.c.email_key)
        )
        self.connection.execute(
            memberships.insert().from_select(
                ["subscriber_id", "list_id", "created_at"],
                sa.select(staged.c.subscriber_id, mailing_lists.c.id, self.now)
                .select_from(staged.join(mailing_lists, mailing_lists.c.id.in_(self.list_ids)))
                .where(fresh),
            )
        )
        self.connection.execute(
            events.insert().from_select(
                ["subscriber_id", "at", *evidence],
                sa.select(
                    staged.c.subscriber_id, self.now, *map(sa.literal, evidence.values())
                ).where(fresh),
            )
        )
        if active:
            count = self.connection.scalar(
                sa.select(sa.func.count()).select_from(staged).where(fresh)
            )
            return int(count or 0), []
        created = self.connection.execute(
            sa.select(
                subscribers.c.id,
                subscribers.c.public_id,
                subscribers.c.email,
                subscribers.c.language,
            )
            .join(staged, staged.c.subscriber_id == subscribers.c.id)
            .where(fresh)
        ).all()
        return len(created), [(row[0], row[1], row[2], row[3]) for row in created]

    def _new_public_id(self) -> sa.ColumnElement[uuid.UUID]:
        """A random (version 4) UUID per row, made by the database."""
        if self.postgres:
            return sa.func.gen_random_uuid()
        # SQLite stores a UUID as 32 hex digits: version nibble 4, variant 8-b.
        return sa.literal_column(
            "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2)"
            " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2)"
            " || hex(randomblob(6)))"
        )

    def _add_memberships(self) -> None:
        """The lists existing people are not on yet (new people get theirs as they are
        inserted)."""
        self.connection.execute(
            insert_ignoring(memberships).from_select(
                ["subscriber_id", "list_id", "created_at"],
                sa.select(staged.c.subscriber_id, mailing_lists.c.id, self.now)
                .select_from(staged.join(mailing_lists, mailing_lists.c.id.in_(self.list_ids)))
                .where(staged.c.status.is_not(None)),
            )
        )

    def _record(self, action: ConsentAction, note: str, which: sa.ColumnElement[bool]) -> None:
        """Consent evidence for the staged people ``which`` selects."""
        columns = {
            "subscriber_id": staged.c.subscriber_id,
            "action": sa.literal(action.value),
            "at": self.now,
            "lists": sa.literal(self.list_slugs),
            "note": sa.literal(note),
        }
        self.connection.execute(
            events.insert().from_select(list(columns), sa.select(*columns.values()).where(which))
        )
