"""``flask reports …``: the requests for detailed reports, decisions, uploads."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask.cli import AppGroup

from newsletter.cli.common import committing, echo_rows, older_than
from newsletter.extensions import db
from newsletter.reports import decisions, files, services
from newsletter.reports.models import ReportRequest, RequestStatus
from newsletter.reports.record import Actor
from newsletter.sessions.services import session_by_reference


@click.group("reports", help="Detailed reports: requests, decisions, uploads.", cls=AppGroup)
def group() -> None:
    pass


def _request(request_id: int) -> ReportRequest:
    found = db.session.get(ReportRequest, request_id)
    if found is None:
        raise click.ClickException(f"There is no report request #{request_id}.")
    return found


@group.command("list")
@click.option(
    "--status",
    type=click.Choice([status.value for status in RequestStatus] + ["all"]),
    default="all",
    show_default=True,
    help="Only requests in this status.",
)
def list_(status: str) -> None:
    """One line a request: id, status, email, session slug, date (UTC)."""
    if status == "all":
        rows = decisions.all_requests()
    else:
        rows = decisions.requests_with(RequestStatus(status), limit=None)
    echo_rows(
        [
            (
                str(found.id),
                found.status.value,
                "(erased)" if found.erased_at else found.email,
                found.report.session.slug,
                f"{found.created_at:%Y-%m-%d %H:%M}",
            )
            for found in rows
        ],
        ("id", "status", "email", "session", "asked (UTC)"),
    )


@group.command("approve")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--note", default="", help="A note to the requester, sent with the link.")
def approve(request_id: int, note: str) -> None:
    """Approve request ID and email the requester a download link."""
    with committing():
        found = _request(request_id)
        grant = decisions.approve(found, Actor.operator(), note)
        email, until = found.email, grant.expires_at
    click.echo(
        f"Approved request #{request_id}: a link valid until {until:%Y-%m-%d %H:%M} UTC "
        f"is on its way to {email}."
    )


@group.command("decline")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--note", default="", help="A note to the requester, sent with the answer.")
def decline(request_id: int, note: str) -> None:
    """Decline request ID and tell the requester."""
    with committing():
        found = _request(request_id)
        decisions.decline(found, Actor.operator(), note)
        email = found.email
    click.echo(f"Declined request #{request_id}; {email} is told so.")


@group.command("revoke")
@click.argument("request_id", metavar="ID", type=int)
def revoke(request_id: int) -> None:
    """Withdraw the approval of request ID: its links stop working at once."""
    with committing():
        stopped = decisions.revoke(_request(request_id), Actor.operator())
    click.echo(f"Revoked request #{request_id}: {stopped} live link(s) stopped.")


@group.command("upload")
@click.argument("session_reference", metavar="SESSION")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
def upload(session_reference: str, file: Path) -> None:
    """Store FILE (PDF, DOCX or ODT) as the detailed report of SESSION (id or slug)."""
    session = session_by_reference(session_reference)
    if session is None:
        raise click.ClickException(f"There is no session {session_reference!r}.")
    with committing(), file.open("rb") as handle:
        version = files.upload(session, handle, file.name, Actor.operator())
        number, kind, slug = version.number, files.kind_of(version).label, session.slug
    click.echo(f"Stored version {number} of the report of {slug} ({kind}).")


@group.command("purge-unverified")
@older_than("Unverified")
def purge_unverified(days: int) -> None:
    """Delete requests whose address was never verified."""
    with committing():
        deleted = services.purge_unverified(timedelta(days=days))
    click.echo(f"Deleted {deleted} unverified request(s).")
