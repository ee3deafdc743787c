"""``flask inbound …``: mail that comes back (bounces, complaints, mailto unsubscribes,
replies)."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from newsletter.bounces import inbound, polling, runner
from newsletter.bounces.sources import SourceError, messages
from newsletter.cli.common import echo_rows


@click.group(
    "inbound", help="Mail that comes back: bounces, complaints, unsubscribes.", cls=AppGroup
)
def group() -> None:
    pass


@group.command("process")
@click.argument("path", default="-")
@click.option(
    "--recipient",
    multiple=True,
    metavar="ADDRESS",
    help="The address the message was delivered to (default: $ORIGINAL_RECIPIENT, which "
    "Postfix and Exim set for a pipe).",
)
def process(path: str, recipient: tuple[str, ...]) -> None:
    """Read PATH (one message, an mbox or a Maildir; - or nothing: standard input, as an
    MTA pipes it) and act on each message: bounces, complaints, unsubscribe requests,
    auto-replies and notices, replies. Processing a message twice changes nothing."""
    envelope = list(recipient) or [
        os.environ[name] for name in ("ORIGINAL_RECIPIENT", "RECIPIENT") if os.environ.get(name)
    ]
    summary = inbound.Summary()
    try:
        for origin, raw in messages(path, sys.stdin.buffer):
            summary.add(runner.process_and_commit(raw, origin, envelope))
    except SourceError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from exc
    for line in summary.lines():
        click.echo(line)


@group.command("poll")
def poll() -> None:
    """Fetch and process new mail from NEWSLETTER_INBOUND_IMAP_* (or _POP3_*) now."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        summary = polling.poll(app)
    except polling.MailboxError as exc:
        raise click.ClickException(str(exc)) from exc
    if summary is None:
        raise click.ClickException(
            "No mailbox is configured: set NEWSLETTER_INBOUND_IMAP_HOST (or _POP3_HOST)."
        )
    for line in summary.lines():
        click.echo(line)


@group.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def list_(limit: int) -> None:
    """Replies kept for staff (when NEWSLETTER_INBOUND_FORWARD_TO is unset), newest first."""
    rows = [
        (
            str(message.id),
            f"{message.received_at:%Y-%m-%d %H:%M}",
            message.sender_key or "(no sender)",
            message.subject or "(no subject)",
        )
        for message in inbound.kept_messages(limit)
    ]
    if not rows:
        click.echo("No reply is waiting.")
        return
    echo_rows(rows, ("id", "received (UTC)", "from", "subject"))
