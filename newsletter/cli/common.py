"""Helpers shared by the command groups."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from newsletter.extensions import db
from newsletter.subscriptions.lists import default_lists, resolve_lists
from newsletter.subscriptions.models import MailingList
from newsletter.validation import InvalidInput

F = TypeVar("F", bound=Callable[..., Any])


def older_than(what: str) -> Callable[[F], F]:
    """The ``--older-than DAYS`` option of the purge commands."""
    return click.option(
        "--older-than",
        "days",
        type=click.IntRange(min=0),
        required=True,
        metavar="DAYS",
        help=f"{what} for at least this many days.",
    )


@contextmanager
def committing() -> Iterator[None]:
    """Commit if the block succeeds; otherwise roll back and print the reason."""
    try:
        yield
    except InvalidInput as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def lists_or_default(slugs: tuple[str, ...]) -> list[MailingList]:
    try:
        lists = resolve_lists(slugs, public_only=False) if slugs else default_lists()
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    if not lists:
        raise click.ClickException(
            "No list given and no default list exists: pass --list SLUG, or create one with "
            "'flask --app newsletter lists create SLUG NAME --default'."
        )
    return lists


def echo_rows(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    """A plain table, columns aligned."""
    table = [headers, *rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(*table, strict=True)]
    for row in table:
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo("  ".join(cells).rstrip())
