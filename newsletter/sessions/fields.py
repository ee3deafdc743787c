"""A dialogue session's fields, declared once.

``SessionFacts`` lists what a session's summary states (title, number, date, host, the
lists of names, the narrative), each with how it is entered and bounded. What the
importer reads (``ParsedSession``) and what staff enter (``SessionData``) extend it;
the model's columns (``column``), the service's checks and the staff form are derived
from the same declaration, so a new field is added here and nowhere else (but where a
page places it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import MappedColumn, mapped_column


class Kind(StrEnum):
    LINE = "line"  # one line of text
    NUMBER = "number"  # a whole number from 1 to the limit
    DATE = "date"
    NAMES = "names"  # a list of one-line names (one per line in the form)
    TEXT = "text"  # paragraphs, separated by a blank line
    FLAG = "flag"


@dataclass(frozen=True)
class Spec:
    """How one field is entered and bounded. ``limit`` is a text's length in characters
    (each name's, for a list of names) or a number's largest value; ``noun`` is what
    a message calls one value."""

    label: str
    kind: Kind
    limit: int = 0
    noun: str = ""
    required: bool = False
    rows: int = 2  # height of the form's text area


# The value of a field left empty (None for the kinds not listed, a new list for names).
_EMPTY: dict[Kind, object] = {Kind.LINE: "", Kind.TEXT: "", Kind.FLAG: False}


def declare(spec: Spec) -> Any:
    """A dataclass field carrying its ``Spec``, with the empty value as default."""
    metadata = {"spec": spec}
    if spec.kind is Kind.NAMES:
        return dataclasses.field(default_factory=list, metadata=metadata)
    return dataclasses.field(default=_EMPTY.get(spec.kind), metadata=metadata)


@dataclass(kw_only=True)
class SessionFacts:
    """What a summary states about its session ("" / None / [] where it says nothing)."""

    title: str = declare(Spec("Title", Kind.LINE, 300, required=True))
    number: int | None = declare(Spec("Session number", Kind.NUMBER, 9999, "session number"))
    held_on: date | None = declare(Spec("Date", Kind.DATE))
    host: str = declare(Spec("Host", Kind.LINE, 300))
    supporters: list[str] = declare(Spec("Supporters", Kind.NAMES, 300, "supporter"))
    partners: list[str] = declare(Spec("Partners", Kind.NAMES, 300, "partner"))
    participant_countries: list[str] = declare(
        Spec("Participant countries", Kind.NAMES, 300, "country", rows=4)
    )
    notable_attendees: list[str] = declare(Spec("Notable attendees", Kind.NAMES, 300, "attendee"))
    narrative: str = declare(Spec("Narrative", Kind.TEXT, 50_000, rows=10))


# What staff enter beside the facts (``SessionData`` in the services).
SERIES = Spec("Series", Kind.LINE, 200, noun="series", required=True)
PUBLISHED = Spec("Published (a public page shows the session and its points)", Kind.FLAG)


def specs(cls: type) -> list[tuple[str, Spec]]:
    """(name, spec) of each declared field of a dataclass, in order."""
    return [
        (item.name, item.metadata["spec"])
        for item in dataclasses.fields(cls)
        if "spec" in item.metadata
    ]


FACTS = specs(SessionFacts)


def facts_of(source: object) -> dict[str, Any]:
    """The facts of a session, a parsed summary or what staff entered (lists copied)."""
    values = {name: getattr(source, name) for name, _ in FACTS}
    return {
        name: list(value) if isinstance(value, list) else value for name, value in values.items()
    }


_COLUMN_TYPES: dict[Kind, Any] = {
    Kind.TEXT: sa.Text,
    Kind.NAMES: sa.JSON,
    Kind.DATE: sa.Date,
    Kind.NUMBER: sa.Integer,
    Kind.FLAG: sa.Boolean,
}


def column(name: str) -> MappedColumn[Any]:
    """The model's column for the fact ``name``: its type, length and default."""
    spec = dict(FACTS)[name]
    kind = sa.String(spec.limit) if spec.kind is Kind.LINE else _COLUMN_TYPES[spec.kind]
    empty = list if spec.kind is Kind.NAMES else _EMPTY.get(spec.kind)
    if spec.required or empty is None:
        return mapped_column(kind)
    return mapped_column(kind, default=empty)
