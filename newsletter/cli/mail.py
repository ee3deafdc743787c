"""``flask mail …``: transactional mail waiting to leave."""

import click
from flask.cli import AppGroup

from newsletter.mailing.queue import deliver_outgoing


@click.group("mail", help="Transactional mail (confirmations, welcomes, notes).", cls=AppGroup)
def group() -> None:
    pass


@group.command("flush")
def flush() -> None:
    """Send queued mail that is due (what a relay refused for a while is retried)."""
    result = deliver_outgoing()
    click.echo(f"Sent {result.sent}, deferred {result.deferred}, failed {result.failed}.")
