"""How every mutating view saves: one helper that commits once and answers a refusal.

A view validates its form, then calls its service inside ``with saving(...)``::

    with saving(form) as attempt:
        session = services.create_session(data)
    if attempt.ok:
        return redirect(...)

On leaving the block the transaction is committed (once). A refusal of the domain
(``InvalidInput``) rolls back and becomes, as the view chose, an error beside the
form's field (``saving(form)``), a flashed message (``saving()``, then the view
redirects) or a 400 page with the reason (``saving(page=True)``). Any other exception
rolls back and propagates (a 500, or a view's own ``except``).

Where two requests may race to insert the same unique key (a double click on the
subscribe form), ``saving(form, retries=3)`` runs the block's service calls through
``attempt.run(...)``: when the database refuses the duplicate, everything is rolled
back and those calls run again, seeing the other request's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import ParamSpec, TypeVar

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError

from newsletter.database import commit_with_retry, is_unique_violation
from newsletter.extensions import db
from newsletter.validation import InvalidInput

P = ParamSpec("P")
T = TypeVar("T")

RACE_LOST = _l("Someone else changed this at the same moment. Please try again.")


def show_error(form: FlaskForm, error: InvalidInput) -> None:
    """Put a service's refusal beside the field it is about, or above the form."""
    field = getattr(form, error.field or "", None)
    errors = field.errors if field is not None else form.form_errors
    errors.append(str(error))


class Attempt:
    """What a ``saving`` block did: ``ok`` once its change is committed."""

    def __init__(self) -> None:
        self.ok = False
        self._calls: list[Callable[[], object]] = []

    def run(self, operation: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call a service, remembered so that a lost unique-key race can run it again
        (only what goes through ``run`` is repeated)."""
        call = partial(operation, *args, **kwargs)
        self._calls.append(call)
        return call()

    def _replay(self) -> None:
        for call in self._calls:
            call()


@contextmanager
def saving(
    form: FlaskForm | None = None, *, page: bool = False, retries: int = 0
) -> Iterator[Attempt]:
    """Commit the block's changes once, or roll back and show why (see the module)."""
    attempt = Attempt()
    try:
        try:
            yield attempt
            db.session.commit()
        except IntegrityError as race:
            db.session.rollback()
            if not (retries and attempt._calls and is_unique_violation(race)):
                raise
            try:
                commit_with_retry(attempt._replay, attempts=retries)
            except IntegrityError as again:
                if not is_unique_violation(again):
                    raise
                raise InvalidInput(RACE_LOST) from again
    except InvalidInput as error:
        db.session.rollback()
        if page:
            raise  # the application's handler answers 400 with the reason
        if form is None:
            flash(str(error), "error")
        else:
            show_error(form, error)
        return
    except BaseException:
        db.session.rollback()
        raise
    attempt.ok = True
