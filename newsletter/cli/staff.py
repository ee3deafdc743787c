"""``flask staff …``"""

import click
from flask.cli import AppGroup

from newsletter.auth import services as auth
from newsletter.auth.models import Role
from newsletter.cli.common import committing, echo_rows


@click.group("staff", help="Staff accounts.", cls=AppGroup)
def group() -> None:
    pass


@group.command("create")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.EDITOR.value,
    show_default=True,
)
@click.option("--name", default="", help="Shown in the staff pages.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when not given (at least 12 characters).",
)
def create(email: str, role: str, name: str, password: str) -> None:
    """Create a staff account that logs in at /staff/login."""
    with committing():
        user = auth.create_staff(email, password, role=Role(role), name=name)
        address, granted = user.email, user.role.value
    click.echo(f"Created {granted} {address}.")


@group.command("list")
def list_() -> None:
    """Every staff account."""
    rows = [
        (user.email, user.role.value, "active" if user.is_active else "deactivated", user.name)
        for user in auth.all_staff()
    ]
    if not rows:
        click.echo(
            "No staff account yet: 'flask --app newsletter staff create EMAIL --role admin'."
        )
        return
    echo_rows(rows, ("email", "role", "status", "name"))
