"""``flask lists …``"""

import click
from flask.cli import AppGroup

from newsletter.cli.common import committing, echo_rows
from newsletter.subscriptions import lists as list_service


@click.group("lists", help="Mailing lists.", cls=AppGroup)
def group() -> None:
    pass


@group.command("create")
@click.argument("slug")
@click.argument("name")
@click.option("--description", default="", help="Shown beside the list on the subscribe form.")
@click.option("--private", is_flag=True, help="Not offered on the public forms.")
@click.option("--default", "is_default", is_flag=True, help="Joined when a reader picks no list.")
def create(slug: str, name: str, description: str, private: bool, is_default: bool) -> None:
    """Create the list SLUG called NAME."""
    with committing():
        created = list_service.create_list(
            slug, name, description, public=not private, default=is_default
        )
    click.echo(f"Created list {created.slug!r} ({created.name}).")


@group.command("list")
def list_() -> None:
    """Every list with its flags."""
    rows = [
        (
            lst.slug,
            lst.name,
            "public" if lst.is_public else "private",
            "archived" if lst.archived_at else ("default" if lst.is_default else ""),
        )
        for lst in list_service.all_lists()
    ]
    if not rows:
        click.echo("No lists yet.")
        return
    echo_rows(rows, ("slug", "name", "visibility", ""))
