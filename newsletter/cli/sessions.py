"""``flask sessions …``: dialogue sessions and their summary points."""

from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from newsletter.cli.common import committing, echo_rows
from newsletter.sessions import services as sessions
from newsletter.sessions.fields import FACTS, Kind, Spec
from newsletter.sessions.importer import ParsedSession, SummaryNotReadable, parse_summary


@click.group("sessions", help="Dialogue sessions and their summary points.", cls=AppGroup)
def group() -> None:
    pass


def _shown(spec: Spec, value: Any) -> str:
    if spec.kind is Kind.NAMES:
        return "; ".join(value)
    if spec.kind is Kind.TEXT:
        return f"{len(value.split())} words"
    if spec.kind is Kind.DATE:
        return value.isoformat() if value else ""
    return str(value or "")


def _print_parsed(parsed: ParsedSession) -> None:
    facts = [("series", parsed.series)]
    for name, spec in FACTS:
        value = getattr(parsed, name)
        count = f" ({len(value)})" if spec.kind is Kind.NAMES else ""
        facts.append((spec.label.lower() + count, _shown(spec, value)))
    for label, value in facts:
        click.echo(f"{label + ':':<15} {value or '(not found)'}")
    click.echo(f"points ({len(parsed.points)}):")
    for number, point in enumerate(parsed.points, start=1):
        click.echo(f"  {number:>2}. {point}")
    for warning in parsed.warnings:
        click.echo(f"warning: {warning}")


@group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what was found; store nothing.")
@click.option("--publish", is_flag=True, help="Publish the session (a public page shows it).")
def import_(file: Path, dry_run: bool, publish: bool) -> None:
    """Read a plain-text session summary from FILE, print what was found and save it as a
    session with its points (unpublished unless --publish)."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file.name} is not UTF-8 text.") from exc
    try:
        parsed = parse_summary(text)
    except SummaryNotReadable as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    _print_parsed(parsed)
    if dry_run:
        return
    with committing():
        data = sessions.SessionData.from_parsed(parsed)
        data.is_published = publish
        session = sessions.create_session(data, parsed.points)
        reference = (session.id, session.slug)
    click.echo(f"Saved as session {reference[0]} ({reference[1]}).")


@group.command("list")
def sessions_list() -> None:
    """Each session's id, slug, date and title."""
    rows = [
        (str(s.id), s.slug, s.held_on.isoformat() if s.held_on else "", s.title)
        for s in sessions.all_sessions()
    ]
    if not rows:
        click.echo("No session yet.")
        return
    echo_rows(rows, ("id", "slug", "date", "title"))
