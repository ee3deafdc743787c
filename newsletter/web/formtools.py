"""Small helpers shared by the views' forms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import flash
from flask_wtf import FlaskForm

from newsletter.extensions import db
from newsletter.validation import InvalidInput


def show_error(form: FlaskForm, error: InvalidInput) -> None:
    """Put a service's refusal beside the field it is about, or above the form."""
    field = getattr(form, error.field or "", None)
    errors = field.errors if field is not None else form.form_errors
    errors.append(str(error))


class Attempt:
    ok = False


@contextmanager
def saving(form: FlaskForm | None = None) -> Iterator[Attempt]:
    """Run the service calls of the block and commit once; a refusal (``InvalidInput``)
    rolls back and is shown beside the form's field, or flashed when there is no form.
    ``attempt.ok`` says whether the change was saved."""
    attempt = Attempt()
    try:
        yield attempt
    except InvalidInput as error:
        db.session.rollback()
        if form is None:
            flash(str(error), "error")
        else:
            show_error(form, error)
        return
    db.session.commit()
    attempt.ok = True
