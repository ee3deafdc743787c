"""``flask demo``: what a newcomer needs to try the product, loaded once."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from newsletter.auth import services as auth
from newsletter.auth.models import Role
from newsletter.cli.common import committing
from newsletter.demo import history
from newsletter.demo.pdf import text_pdf
from newsletter.digests import services as digests
from newsletter.mailing.transport import uses_outbox
from newsletter.reports import files as reports
from newsletter.reports.record import Actor
from newsletter.sessions import services as sessions
from newsletter.sessions.importer import parse_summary
from newsletter.sessions.models import DialogueSession
from newsletter.settings import services as site_settings
from newsletter.subscriptions import lists as list_service

SAMPLE = Path(__file__).resolve().parent.parent / "demo" / "has-track2-session-2020-06-08.txt"
DEMO_ADMIN = "admin@example.org"


def _demo_password() -> str:
    """The demo admin's password: made once, kept (0600) in the instance folder so that
    every run can print the login."""
    path = Path(current_app.instance_path) / "demo-admin-password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password)
    return password


def _demo_site(publisher: str) -> site_settings.SiteValues:
    """The settings of a site run by the sample summary's publisher ("Heart of Asia
    Society (HAS)" names the organisation "Heart of Asia Society")."""
    organisation = re.sub(r"\s*\([^)]*\)\s*$", "", publisher).strip() or publisher
    values = dataclasses.asdict(site_settings.current())
    values.update(organisation_name=organisation, site_name="Dialogue Digest")
    values["sender_name"] = f"{organisation} · Dialogue Digest"
    return site_settings.SiteValues(**{name: values[name] for name in site_settings.EDITABLE})


def _attach_demo_report() -> DialogueSession | None:
    """Give the sample session a small generated PDF as its detailed report, unless it
    has one (or is not there)."""
    session = next(
        (found for found in sessions.all_sessions() if found.is_published and found.points), None
    )
    if session is None:
        return None
    report = reports.report_of(session)
    if report is not None and report.current is not None:
        return None
    paragraphs = [
        f"{session.heading}. This is a demo report, generated for trying the request "
        "workflow: the real detailed report of a session is a file staff upload.",
        *session.narrative.split("\n\n"),
        "Summary points",
        *(f"{number}. {point.text}" for number, point in enumerate(session.points, start=1)),
    ]
    data = text_pdf(f"Detailed report (demo): {session.title}", paragraphs)
    reports.upload(session, io.BytesIO(data), "demo-report.pdf", Actor.operator())
    return session


@click.command("demo")
@with_appcontext
def demo() -> None:
    """Load demo content once: a default list, the sample session with its points, a
    draft digest of them, a few weeks of demo readers with an earlier send's figures (for
    the dashboard), and a demo admin (whose login this prints)."""
    loaded = []
    with committing():
        if not list_service.all_lists():
            list_service.create_list(
                "digest",
                "Dialogue digest",
                "Summaries of each session of our Track 2 dialogue series.",
                default=True,
            )
            loaded.append("the list 'digest'")
        if not sessions.all_sessions():
            parsed = parse_summary(SAMPLE.read_text(encoding="utf-8"))
            data = sessions.SessionData.from_parsed(parsed)
            data.is_published = True
            session = sessions.create_session(data, parsed.points)
            digests.create_from_session(session)
            loaded.append(f"the sample session ({len(parsed.points)} points) and a draft digest")
            if not site_settings.current().organisation_name:
                site_settings.update(_demo_site(parsed.host))
                loaded.append(f"the organisation ({site_settings.current().organisation_name})")
        report_session = _attach_demo_report()
        published = [found for found in sessions.all_sessions() if found.points]
        if history.load(published[0] if published else None):
            loaded.append("a few weeks of demo readers and an earlier send (demo data)")
        if report_session is not None:
            loaded.append("a demo detailed report")
        password = None
        if auth.staff_by_email(DEMO_ADMIN) is None:
            password = _demo_password()
            auth.create_staff(DEMO_ADMIN, password, role=Role.ADMIN, name="Demo admin")
            loaded.append("a demo admin")
        elif (Path(current_app.instance_path) / "demo-admin-password").exists():
            password = _demo_password()
    click.echo(
        f"Demo content loaded: {', '.join(loaded)}." if loaded else "Demo content is there already."
    )
    _print_where_to_go(password)


def _print_where_to_go(password: str | None) -> None:
    """The real base URL of each page a newcomer needs, and where mail goes."""
    base = current_app.config["BASE_URL"]
    if password:
        click.echo(f"Staff login: {base}/staff/  {DEMO_ADMIN} / {password}")
    click.echo(f"Subscribe at {base}/")
    if uses_outbox(current_app._get_current_object()):  # type: ignore[attr-defined]
        click.echo(
            f"No mail server is set: mail lands in the outbox, {base}/outbox/ "
            "(log in as the demo admin first)."
        )
    else:
        click.echo(f"Mail goes out through {current_app.config['MAIL_SERVER']}.")
    for session in sessions.all_sessions():
        if reports.requestable(session.slug) is not None:
            click.echo(
                f"Ask for the demo detailed report at {base}/sessions/{session.slug}/report ;"
                f" decide at {base}/staff/reports"
            )
            break
