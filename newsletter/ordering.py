"""Rows kept in an order of their own (``position``): points in a session, items in a
digest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class Positioned(Protocol):
    position: int


P = TypeVar("P", bound=Positioned)


def renumber(rows: Sequence[Positioned]) -> None:
    """Positions 1, 2, 3… in the order given."""
    for position, row in enumerate(rows, start=1):
        row.position = position


def move(rows: Sequence[P], row: P, offset: int) -> None:
    """Move ``row`` ``offset`` places (-1 up, +1 down), staying within the list."""
    ordered = list(rows)
    index = ordered.index(row)
    target = min(max(index + offset, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    renumber(ordered)
