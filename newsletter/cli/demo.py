"""``flask demo``: what a newcomer needs to try the product, loaded once."""

import click
from flask.cli import with_appcontext

from newsletter.cli.common import committing
from newsletter.subscriptions import lists as list_service


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load demo content (a default list); running it again changes nothing."""
    with committing():
        created = []
        if not list_service.all_lists():
            created.append(
                list_service.create_list(
                    "digest",
                    "Dialogue digest",
                    "Summaries of each session of our Track 2 dialogue series.",
                    default=True,
                )
            )
    if created:
        click.echo("Demo content loaded: the list 'digest'.")
    else:
        click.echo("Demo content is there already.")
    click.echo("Open http://127.0.0.1:5000/ to subscribe; mail lands in /outbox.")
