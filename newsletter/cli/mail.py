"""``flask mail …`` and ``flask send …``"""

import click
from flask.cli import AppGroup

from newsletter import mailing
from newsletter.cli.common import committing
from newsletter.extensions import db
from newsletter.mailing.models import OutgoingMail
from newsletter.mailing.queue import deliver_outgoing
from newsletter.subscriptions.addresses import normalize_address


@click.group("mail", help="Transactional mail (confirmations, welcomes, notes).", cls=AppGroup)
def group() -> None:
    pass


@group.command("flush")
def flush() -> None:
    """Send queued mail that is due (what a relay refused for a while is retried)."""
    result = deliver_outgoing()
    click.echo(f"Sent {result.sent}, deferred {result.deferred}, failed {result.failed}.")


@click.group("send", help="Sending checks.", cls=AppGroup)
def send_group() -> None:
    pass


@send_group.command("test-mail")
@click.argument("address")
def test_mail(address: str) -> None:
    """Send a short test message to ADDRESS through the configured transport."""
    with committing():
        to = normalize_address(address).email
        queued_id = mailing.send_email("test", subject="Test message", to_address=to)
    left = db.session.get(OutgoingMail, queued_id)
    if left is None:
        click.echo(f"Sent a test message to {to}.")
    else:
        raise click.ClickException(
            f"The test message to {to} is not sent yet: {left.last_error or 'still queued'}. "
            "It will be retried ('flask --app newsletter mail flush')."
        )
