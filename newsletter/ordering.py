"""Rows kept in an order of their own (``position``): points in a session, items in a
digest."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, MutableSequence, Sequence
from typing import Protocol, TypeVar

from newsletter.validation import InvalidInput


class Positioned(Protocol):
    position: int


P = TypeVar("P", bound=Positioned)


def renumber(rows: Sequence[Positioned]) -> None:
    """Positions 1, 2, 3… in the order given."""
    for position, row in enumerate(rows, start=1):
        row.position = position


class Identified(Positioned, Protocol):
    id: int


R = TypeVar("R", bound=Identified)


class StaleForm(ValueError):
    """A form names a row that is gone (changed on another page since it was opened)."""


def rearrange(
    rows: Sequence[R], submitted: Sequence[int], move: tuple[int, int] | None = None
) -> list[R]:
    """The rows in the order a form sent them, then any the form did not know of (added
    elsewhere meanwhile), with ``move`` (row id, -1 or +1) applied; renumbered."""
    by_id = {row.id: row for row in rows}
    missing = [row_id for row_id in submitted if row_id not in by_id]
    if missing:
        raise StaleForm(missing)
    ordered = [by_id[row_id] for row_id in dict.fromkeys(submitted)]
    ordered += [row for row in rows if row.id not in set(submitted)]
    if move is not None and move[0] in by_id:
        move_id, offset = move
        index = ordered.index(by_id[move_id])
        target = min(max(index + offset, 0), len(ordered) - 1)
        ordered.insert(target, ordered.pop(index))
    renumber(ordered)
    return ordered


def edit_rows(
    rows: MutableSequence[R],
    *,
    noun: str,
    texts: Mapping[int, str],
    order: Sequence[int],
    set_text: Callable[[R, str], None],
    removed: Collection[int] = (),
    move: tuple[int, int] | None = None,
) -> None:
    """Apply what one form did to ordered rows (a session's points, a digest's items):
    the words of each (``set_text`` checks them), the order, removals and a move, all or
    nothing. A refusal names the row (``Point 3: …``, field ``point-<id>-text``); a form
    naming a row that is gone refuses the whole change, so nothing typed is lost unseen."""
    try:
        ordered = rearrange(rows, order, move)
    except StaleForm as stale:
        raise InvalidInput(
            f"Some {noun}s were removed on another page since this one was opened. "
            "Copy what you typed, reload the page and make your changes again."
        ) from stale
    for number, row in enumerate(ordered, start=1):
        if row.id in texts and row.id not in removed:
            try:
                set_text(row, texts[row.id])
            except InvalidInput as error:
                raise InvalidInput(
                    f"{noun.capitalize()} {number}: {error}", f"{noun}-{row.id}-text"
                ) from error
    for row in [row for row in ordered if row.id in removed]:
        rows.remove(row)
    renumber([row for row in ordered if row.id not in removed])
