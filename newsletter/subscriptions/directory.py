"""The staff list of subscribers: search, filters, sorting and keyset pages.

Built to stay fast with millions of subscribers on PostgreSQL: a page never counts the
table, it reads the rows after a cursor (the last row of the page before) in the order
of an index; a prefix search reads the pattern indexes and a substring search the
trigram index the migration made (``models.POSTGRESQL_ONLY_INDEXES``). The CSV export
reads the same filter in keyset batches, so a million rows never sit in memory.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from newsletter.extensions import db
from newsletter.subscriptions.models import (
    MailingList,
    Membership,
    Subscriber,
    SubscriberSource,
    SubscriberStatus,
)
from newsletter.validation import InvalidInput, clean_text

E = TypeVar("E", SubscriberStatus, SubscriberSource)
PAGE_SIZE = 50
EXPORT_BATCH = 2000
CONTAINS_MIN = 3  # a trigram index finds substrings of three characters or more
SORTS = {"newest": "Newest first", "oldest": "Oldest first", "email": "Address (A to Z)"}
MATCHES = {"prefix": "Starts with", "contains": "Contains"}
DAMAGED = "This page link is damaged: start again from the first page."

# Spelt as the trigram index is (the migration), so that PostgreSQL uses it.
SEARCH_TEXT: sa.ColumnClause[str] = sa.literal_column(
    "(subscribers.email_key || ' ' || lower(subscribers.name)"
    " || ' ' || lower(subscribers.organisation))"
)


@dataclass(frozen=True)
class Filter:
    """What the page's query string asks for (``parse_filter``)."""

    q: str = ""
    match: str = "prefix"
    status: SubscriberStatus | None = None
    list_id: int | None = None
    source: SubscriberSource | None = None
    joined_from: date | None = None
    joined_to: date | None = None
    sort: str = "newest"

    @property
    def searches_prefix(self) -> bool:
        """A substring search needs three characters; fewer search by prefix."""
        return self.match == "prefix" or len(self.q) < CONTAINS_MIN

    def args(self) -> dict[str, str]:
        """The query string of this filter (the names the page and its links use)."""
        values = {
            "q": self.q,
            "match": self.match if self.q else "",
            "status": self.status.value if self.status else "",
            "list": str(self.list_id) if self.list_id else "",
            "source": self.source.value if self.source else "",
            "joined_from": self.joined_from.isoformat() if self.joined_from else "",
            "joined_to": self.joined_to.isoformat() if self.joined_to else "",
            "sort": self.sort if self.sort != "newest" else "",
        }
        return {name: value for name, value in values.items() if value}


def parse_filter(args: Mapping[str, str]) -> Filter:
    """Read the query string; anything malformed is refused with what to fix."""
    q = clean_text(args.get("q", ""), "search", 254).lower()
    match = args.get("match") or "prefix"
    if match not in MATCHES:
        raise InvalidInput(_l("Search either by the start (prefix) or anywhere (contains)."))
    sort = args.get("sort") or "newest"
    if sort not in SORTS:
        raise InvalidInput(f"Sort by one of: {', '.join(SORTS)}.")
    return Filter(
        q=q,
        match=match,
        status=_choice(SubscriberStatus, args.get("status"), "status"),
        list_id=_list_id(args.get("list")),
        source=_choice(SubscriberSource, args.get("source"), "source"),
        joined_from=_date(args.get("joined_from"), "joined_from"),
        joined_to=_date(args.get("joined_to"), "joined_to"),
        sort=sort,
    )


def _choice(kind: type[E], value: str | None, name: str) -> E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{name} is one of: {', '.join(m.value for m in kind)}.") from None


def _list_id(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or db.session.get(MailingList, int(value)) is None:
        raise InvalidInput(f"There is no list {value!r}.")
    return int(value)


def _date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} is a date written YYYY-MM-DD, not {value!r}.") from None


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _pattern(text: str) -> Any:
    # Written into the statement, not bound: PostgreSQL uses a pattern index only for a
    # pattern it can read when planning (a prepared statement's parameter it cannot).
    return sa.literal(text, literal_execute=True)


def _conditions(wanted: Filter) -> list[Any]:
    conditions: list[Any] = []
    if wanted.q:
        if wanted.searches_prefix:
            prefix = _pattern(_like(wanted.q) + "%")
            conditions.append(
                sa.or_(
                    Subscriber.email_key.like(prefix, escape="\\"),
                    sa.func.lower(Subscriber.name).like(prefix, escape="\\"),
                    sa.func.lower(Subscriber.organisation).like(prefix, escape="\\"),
                )
            )
        else:
            anywhere = _pattern("%" + _like(wanted.q) + "%")
            conditions.append(SEARCH_TEXT.like(anywhere, escape="\\"))
    if wanted.status:
        conditions.append(Subscriber.status == wanted.status)
    if wanted.source:
        conditions.append(Subscriber.source == wanted.source)
    if wanted.list_id:
        conditions.append(
            sa.exists().where(
                Membership.subscriber_id == Subscriber.id, Membership.list_id == wanted.list_id
            )
        )
    if wanted.joined_from:
        start = datetime.combine(wanted.joined_from, time(), UTC)
        conditions.append(Subscriber.created_at >= start)
    if wanted.joined_to:
        end = datetime.combine(wanted.joined_to + timedelta(days=1), time(), UTC)
        conditions.append(Subscriber.created_at < end)
    return conditions


@dataclass(frozen=True)
class Row:
    id: int
    email: str
    name: str
    organisation: str
    status: SubscriberStatus
    source: SubscriberSource
    created_at: datetime
    lists: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_cursor: str | None  # the ``after`` of the next page; None on the last


_COLUMNS = (
    Subscriber.id,
    Subscriber.email,
    Subscriber.name,
    Subscriber.organisation,
    Subscriber.status,
    Subscriber.source,
    Subscriber.created_at,
)


def _keyset(wanted: Filter, after: str | None) -> tuple[list[Any], list[Any]]:
    """(conditions after the cursor, order) of the chosen sort."""
    position = _decode(after) if after else None
    if position and len(position) != (1 if wanted.sort == "email" else 2):
        raise InvalidInput(DAMAGED)  # a cursor of another sort
    if wanted.sort == "email":
        order = [Subscriber.email_key]
        where = [Subscriber.email_key > position[0]] if position else []
        return where, order
    key = sa.tuple_(Subscriber.created_at, Subscriber.id)
    if position:
        at, subscriber_id = datetime.fromisoformat(position[0]), int(position[1])
        bound = sa.tuple_(sa.literal(at, type_=Subscriber.created_at.type), subscriber_id)
        where = [key < bound if wanted.sort == "newest" else key > bound]
    else:
        where = []
    if wanted.sort == "newest":
        return where, [Subscriber.created_at.desc(), Subscriber.id.desc()]
    return where, [Subscriber.created_at, Subscriber.id]


def statement(
    wanted: Filter, after: str | None = None, size: int = PAGE_SIZE
) -> sa.Select[*tuple[Any, ...]]:
    """The query of one page (the benchmark and the plan test read it as is)."""
    where, order = _keyset(wanted, after)
    columns = (*_COLUMNS, Subscriber.email_key)
    return sa.select(*columns).where(*_conditions(wanted), *where).order_by(*order).limit(size)


def page(wanted: Filter, after: str | None = None, size: int = PAGE_SIZE) -> Page:
    """One page of subscribers, with each one's list names; no count of the whole."""
    found = db.session.execute(statement(wanted, after, size + 1)).all()
    more = len(found) > size
    found = found[:size]
    names = _list_names([row.id for row in found])
    rows = [
        Row(*row[: len(_COLUMNS)], lists=tuple(names.get(row.id, ())))  # type: ignore[misc]
        for row in found
    ]
    next_cursor = _cursor(wanted, found[-1]) if more and found else None
    return Page(rows, next_cursor)


def _list_names(ids: list[int]) -> dict[int, list[str]]:
    if not ids:
        return {}
    query = (
        sa.select(Membership.subscriber_id, MailingList.name)
        .join(MailingList, MailingList.id == Membership.list_id)
        .where(Membership.subscriber_id.in_(ids))
        .order_by(MailingList.name)
    )
    names: dict[int, list[str]] = {}
    for subscriber_id, name in db.session.execute(query):
        names.setdefault(subscriber_id, []).append(name)
    return names


def _cursor(wanted: Filter, row: Any) -> str:
    by_email = wanted.sort == "email"
    position = [row.email_key] if by_email else [row.created_at.isoformat(), row.id]
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(position, list) or len(position) not in (1, 2):
            raise ValueError(cursor)
        if not all(isinstance(part, str | int) for part in position):
            raise ValueError(cursor)
        if len(position) > 1 and (
            datetime.fromisoformat(position[0]).tzinfo is None or int(position[1]) < 0
        ):
            raise ValueError(cursor)
        return position
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput(DAMAGED) from None


# -- the CSV export -------------------------------------------------------------------

CSV_COLUMNS = ("email", "name", "organisation", "status", "source", "joined", "lists")


def _cell(value: str) -> str:
    """A text cell a spreadsheet shows as text: a leading = + - @ (what someone typed on
    the public form) would be read as a formula, so it is quoted."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_rows(wanted: Filter) -> Iterator[str]:
    """The CSV of every subscriber the filter finds, a batch at a time (lines of text,
    the header first); each batch is a keyset page, so memory stays flat."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    # Each row's lists in the same statement (a correlated aggregate): a second query
    # per batch with a couple of thousand ids would cost more than the rows themselves.
    slugs = (
        sa.select(sa.func.aggregate_strings(MailingList.slug, " "))
        .join(Membership, Membership.list_id == MailingList.id)
        .where(Membership.subscriber_id == Subscriber.id)
        .correlate(Subscriber)
        .scalar_subquery()
        .label("slugs")
    )
    writer.writerow(CSV_COLUMNS)
    yield flush()
    after: str | None = None
    while True:
        query = statement(wanted, after, EXPORT_BATCH).add_columns(slugs)
        found = db.session.connection().execute(query).all()  # rows, not ORM objects
        if not found:
            return
        for row in found:
            writer.writerow(
                (
                    _cell(row.email),
                    _cell(row.name),
                    _cell(row.organisation),
                    row.status.value,
                    row.source.value,
                    row.created_at.isoformat(timespec="seconds"),
                    " ".join(sorted((row.slugs or "").split())),
                )
            )
        yield flush()
        if len(found) < EXPORT_BATCH:
            return
        after = _cursor(wanted, found[-1])
