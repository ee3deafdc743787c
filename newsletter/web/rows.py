"""Ordered rows (a session's points, a digest's items) edited in one form: each row's
id in order, its text and its Remove box, and the Move button that was pressed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import abort, request

from newsletter.validation import InvalidInput

MAX_ID = 2**31 - 1  # the largest id a column holds
_ID_RE = re.compile(r"0*([0-9]{1,10})")


def form_id(value: str) -> int | None:
    """A row id sent by a form (ASCII digits, within a column's range), else None."""
    match = _ID_RE.fullmatch(value)
    number = int(match.group(1)) if match else 0
    return number if 0 < number <= MAX_ID else None


@dataclass
class RowEdit:
    id: int
    text: str
    remove: bool = False
    error: str | None = None


@dataclass
class RowsForm:
    rows: list[RowEdit] = field(default_factory=list)
    move: tuple[int, int] | None = None  # (row id, -1 up or +1 down)

    def texts(self) -> dict[int, str]:
        return {row.id: row.text for row in self.rows if not row.remove}

    def removed(self) -> set[int]:
        return {row.id for row in self.rows if row.remove}

    def order(self) -> list[int]:
        return [row.id for row in self.rows]

    @contextmanager
    def errors_beside_rows(self) -> Iterator[None]:
        """A refusal about one row is shown beside it too (and above the form, where
        ``saving`` puts a refusal that names no field of the form)."""
        try:
            yield
        except InvalidInput as error:
            target = row_id_of(error.field)
            for row in self.rows:
                if row.id == target:
                    row.error = str(error)
                    raise InvalidInput(str(error)) from error
            raise


def read_rows(prefix: str) -> RowsForm:
    """``<prefix>_id`` in order, ``<prefix>-<id>-text``, ``<prefix>-<id>-remove`` and a
    ``move`` of ``<id>:up`` or ``<id>:down``; 400 for a form that is not ours."""
    ids = [form_id(value) for value in request.form.getlist(f"{prefix}_id")]
    form = RowsForm()
    for row_id in ids:
        if row_id is None:
            abort(400, "The form was not understood. Please reload the page.")
        form.rows.append(
            RowEdit(
                id=row_id,
                text=request.form.get(f"{prefix}-{row_id}-text", ""),
                remove=bool(request.form.get(f"{prefix}-{row_id}-remove")),
            )
        )
    move = request.form.get("move", "")
    target, _, direction = move.partition(":")
    if move:
        move_id = form_id(target)
        if move_id is None or direction not in ("up", "down"):
            abort(400, "The form was not understood. Please reload the page.")
        form.move = (move_id, -1 if direction == "up" else 1)
    return form


def row_id_of(field_name: str | None) -> int | None:
    """The row an error's field names (``point-12-text`` → 12)."""
    parts = (field_name or "").split("-")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None  # noqa: PLR2004 - prefix, id, name
