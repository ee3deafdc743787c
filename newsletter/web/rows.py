"""Ordered rows (a session's points, a digest's items) edited in one form: each row's
id in order, its text and its Remove box, and the Move button that was pressed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import abort, request

from newsletter.validation import InvalidInput


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
    ids = request.form.getlist(f"{prefix}_id")
    if not all(value.isdigit() for value in ids):
        abort(400, "The form was not understood. Please reload the page.")
    form = RowsForm()
    for raw in ids:
        row_id = int(raw)
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
        if not target.isdigit() or direction not in ("up", "down"):
            abort(400, "The form was not understood. Please reload the page.")
        form.move = (int(target), -1 if direction == "up" else 1)
    return form


def row_id_of(field_name: str | None) -> int | None:
    """The row an error's field names (``point-12-text`` → 12)."""
    parts = (field_name or "").split("-")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None  # noqa: PLR2004 - prefix, id, name
