"""``flask send …``: the periodic sending work (cron) and a check of the relay."""

import click
from flask import current_app
from flask.cli import AppGroup

from newsletter import mailing
from newsletter.cli.common import committing
from newsletter.delivery import execution
from newsletter.extensions import db
from newsletter.mailing.models import OutgoingMail
from newsletter.validation import normalize_address


@click.group("send", help="The periodic sending work, and a check of the relay.", cls=AppGroup)
def group() -> None:
    pass


@group.command("test-mail")
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


@group.command("run")
def run() -> None:
    """One round of the periodic work (run it from cron every minute): start scheduled
    digests that are due, send due retries and leftovers of sends, send queued mail,
    read returned mail from NEWSLETTER_INBOUND_IMAP_* (or _POP3_*)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    report = execution.tick(app)
    for digest_id in report.started + report.resumed:
        if app.extensions.get("celery") is None:
            execution.work_on(app, digest_id)
        else:
            execution.dispatch(app, digest_id)
    click.echo(
        f"Started {len(report.started)} scheduled digest(s), resumed {len(report.resumed)} "
        f"send(s), sent {report.mail_sent} queued message(s), read {report.inbound_read} "
        "returned message(s)."
    )
