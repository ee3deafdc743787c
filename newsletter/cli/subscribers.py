"""``flask subscribers …``"""

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import click
from flask.cli import AppGroup

from newsletter.cli.common import committing, echo_rows, lists_or_default, older_than
from newsletter.extensions import db
from newsletter.subscriptions import casework, roster, services
from newsletter.subscriptions.importer import ImportAborted, import_subscribers
from newsletter.subscriptions.models import Subscriber
from newsletter.validation import InvalidInput
from newsletter.words import plural

_list_option = click.option(
    "--list",
    "list_slugs",
    multiple=True,
    metavar="SLUG",
    help="A list to join (repeatable); default: the default list.",
)


@click.group(
    "subscribers", help="Subscribers: add, import, show, export one person, purge.", cls=AppGroup
)
def group() -> None:
    pass


@group.command("add")
@click.argument("email")
@click.option("--name", default="", help="The person's name.")
@click.option("--organisation", default="", help="The person's organisation.")
@click.option(
    "--language",
    default="",
    metavar="TAG",
    help="Their language, one of NEWSLETTER_LANGUAGES (e.g. fa-AF); default: the first.",
)
@_list_option
@click.option(
    "--consent-note",
    default="added by an operator from the command line",
    show_default=True,
    help="Where and how this person consented; kept as evidence.",
)
def add(
    email: str,
    name: str,
    organisation: str,
    language: str,
    list_slugs: tuple[str, ...],
    consent_note: str,
) -> None:
    """Add EMAIL as an active subscriber."""
    lists = lists_or_default(list_slugs)
    with committing():
        outcome = roster.add_subscriber(
            email,
            name=name,
            organisation=organisation,
            lists=lists,
            consent_note=consent_note,
            language=language,
        )
        address = outcome.subscriber.email
    verb = "Added" if outcome.created else ("Updated" if outcome.changed else "Unchanged:")
    click.echo(f"{verb} {address} ({', '.join(lst.slug for lst in lists)}).")


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_list_option
@click.option(
    "--consent-note",
    default=None,
    help="How these people consented (e.g. 'signed up at the 2024 conference'); "
    "they become active and the note is kept as evidence.",
)
@click.option(
    "--send-confirmation",
    is_flag=True,
    help="No prior consent: new people are pending and each gets a confirmation link.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and report, but store nothing.")
def import_(
    file: Path,
    list_slugs: tuple[str, ...],
    consent_note: str | None,
    send_confirmation: bool,
    dry_run: bool,
) -> None:
    """Import FILE (CSV, UTF-8; columns email, name, organisation, language)."""
    if bool(consent_note) == send_confirmation:
        raise click.UsageError(
            "Say how these people consented: --consent-note TEXT (they become active) "
            "or --send-confirmation (each confirms by email)."
        )
    lists = lists_or_default(list_slugs)
    try:
        with file.open("rb") as handle, _progress(file) as on_progress:
            report = import_subscribers(
                handle, lists=lists, consent_note=consent_note, on_progress=on_progress
            )
    except ImportAborted as exc:
        db.session.rollback()
        raise click.ClickException(f"{file.name}, {exc}. Nothing was imported.") from exc
    except BaseException:
        db.session.rollback()
        raise
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()

    prefix = "Dry run, nothing stored: " if dry_run else ""
    click.echo(
        f"{prefix}{report.rows} rows: added {report.added}, updated {report.updated}, "
        f"unchanged {report.unchanged}, merged duplicates {report.merged}, "
        f"rejected {len(report.rejected)}."
    )
    if report.ignored_columns:
        click.echo(f"Ignored columns: {', '.join(report.ignored_columns)}.")
    for line, reason in report.rejected:
        click.echo(f"  line {line}: {reason}")
    if report.rejected:
        click.echo("Fix the rejected rows and import the file again; rows already in are kept.")


@contextmanager
def _progress(file: Path) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal (standard error), nothing when output is a file."""
    if not sys.stderr.isatty():
        yield None
        return
    with file.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    with click.progressbar(
        length=max(lines - 1, 1), label="Importing", file=sys.stderr, show_pos=True
    ) as bar:
        done = 0

        def advance(rows: int) -> None:
            nonlocal done
            bar.update(rows - done)
            done = rows

        yield advance


@group.command("show")
@click.argument("email")
def show(email: str) -> None:
    """Status, lists and consent history of EMAIL."""
    subscriber = _subscriber(email)
    lists = services.subscriber_lists(subscriber)
    click.echo(f"{subscriber.email}  {subscriber.status.value}")
    if subscriber.name or subscriber.organisation:
        click.echo(
            f"  {subscriber.name}{', ' if subscriber.name and subscriber.organisation else ''}"
            f"{subscriber.organisation}"
        )
    click.echo(f"  lists: {', '.join(lst.slug for lst in lists) or '(none)'}")
    click.echo(f"  since: {subscriber.created_at:%Y-%m-%d %H:%M} UTC")
    rows = [
        (
            f"{event.at:%Y-%m-%d %H:%M}",
            event.action.value,
            event.ip or "",
            event.lists,
            event.consent_version or "",
            event.note,
        )
        for event in roster.consent_history(subscriber)
    ]
    if rows:
        click.echo("  history:")
        echo_rows(rows, ("when (UTC)", "what", "from", "lists", "consent text", "note"))


@group.command("export-person")
@click.argument("email")
def export_person(email: str) -> None:
    """Everything held about EMAIL, as JSON (an access request's answer)."""
    click.echo(json.dumps(casework.person_data(_subscriber(email)), indent=2, ensure_ascii=False))


def _subscriber(email: str) -> Subscriber:
    try:
        subscriber = services.subscriber_by_email(email)
    except InvalidInput as exc:
        raise click.ClickException(str(exc)) from exc
    if subscriber is None:
        raise click.ClickException(f"No subscriber {email!r}.")
    return subscriber


@group.command("purge-pending")
@older_than("Pending")
def purge_pending(days: int) -> None:
    """Remove subscribers who never confirmed."""
    with committing():
        deleted, reverted = roster.purge_pending(timedelta(days=days))
    click.echo(
        f"Deleted {plural(deleted, 'unconfirmed subscriber')}; "
        f"{plural(reverted, 'earlier subscriber')} "
        "who asked again and never confirmed are back to unsubscribed."
    )
