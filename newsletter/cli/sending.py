"""``flask digest send|schedule|pause|resume|cancel|status`` and ``flask send run``."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from newsletter.cli.common import committing
from newsletter.delivery import control, engine
from newsletter.digests import services as digests
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db


def _digest(reference: str) -> Digest:
    found = digests.digest_by_reference(reference)
    if found is None:
        raise click.ClickException(
            f"No digest {reference!r}: see 'flask --app newsletter digest list'."
        )
    return found


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    return str(timedelta(seconds=round(seconds)))


def progress_line(current: control.Progress, width: int = 24) -> str:
    share = current.done / current.total if current.total else 1.0
    filled = int(share * width)
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}  sent {current.sent}"
        f" · failed {current.failed} · retrying {current.retrying} · left {current.left}"
        f" · {current.rate:.0f}/s · {_clock(current.seconds_left)} to go"
    )


def _run(digest_id: int, workers: int | None) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    interactive = sys.stdout.isatty()
    last_line = [0.0]

    def show(current: control.Progress) -> None:
        """A bar redrawn in place on a terminal; a line every 10 s in a log."""
        if interactive:
            click.echo("\r" + progress_line(current), nl=False)
        elif time.monotonic() - last_line[0] >= 10:
            last_line[0] = time.monotonic()
            click.echo(progress_line(current))

    try:
        final = engine.send_foreground(app, digest_id, show, stop, concurrency=workers)
    except KeyboardInterrupt:
        click.echo(
            "\nInterrupted. Deliveries not sent yet stay queued: run the same command to resume."
        )
        raise SystemExit(130) from None
    if interactive:
        click.echo()
    click.echo(progress_line(final))
    db.session.expire_all()
    digest = db.session.get(Digest, digest_id)
    status = digest.status if digest else None
    if status == DigestStatus.SENT:
        click.echo(f"Done: {final.sent} sent, {final.failed} failed, {final.skipped} skipped.")
    elif status == DigestStatus.PAUSED and digest is not None:
        raise click.ClickException(f"The send is paused: {digest.pause_reason}")
    elif final.retrying and final.next_retry_at is not None:
        click.echo(
            f"{final.retrying} deliveries wait for a retry (the next at "
            f"{final.next_retry_at:%H:%M:%S} UTC); 'flask --app newsletter send run' "
            "(from cron) or this command sends them when they are due."
        )
    elif final.in_flight:
        click.echo(f"{final.in_flight} deliveries are being sent by other workers.")


@click.command("send")
@with_appcontext
@click.argument("digest_id")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Parallel SMTP connections (default: NEWSLETTER_SEND_CONCURRENCY; 1 on SQLite).",
)
@click.option(
    "--reclaim",
    is_flag=True,
    help="Take back every delivery claimed by other workers now (after a crash, when "
    "no other sender runs), instead of waiting for their claims to go stale.",
)
def send(digest_id: str, workers: int | None, reclaim: bool) -> None:
    """Send digest DIGEST_ID to every active subscriber of its lists, in the foreground,
    with a progress bar. Interrupt it (or let it crash) and run it again to resume."""
    digest = _digest(digest_id)
    if digest.status in (DigestStatus.DRAFT, DigestStatus.SCHEDULED):
        with committing():
            size = control.start_send(digest)
        click.echo(f"Sending “{digest.subject}” to {size} subscriber(s).")
    elif digest.status == DigestStatus.SENDING:
        click.echo(f"Resuming “{digest.subject}”.")
    elif digest.status == DigestStatus.PAUSED:
        raise click.ClickException(
            f"The send is paused ({digest.pause_reason}): "
            f"resume it with 'digest resume {digest.id}'."
        )
    else:
        raise click.ClickException(
            f"This digest is {digest.status.value}; it cannot be sent again."
        )
    if reclaim:
        with committing():
            released = control.release_stale_claims(digest.id, timedelta(0))
        click.echo(f"Took back {released} claimed deliveries.")
    _run(digest.id, workers if current_app.config["SEND_CONCURRENCY"] > 1 else 1)


@click.command("resume")
@with_appcontext
@click.argument("digest_id")
@click.option("--workers", type=click.IntRange(1, 64), default=None)
def resume(digest_id: str, workers: int | None) -> None:
    """Resume a paused send, in the foreground."""
    digest = _digest(digest_id)
    with committing():
        control.resume(digest)
    click.echo(f"Resuming “{digest.subject}”.")
    _run(digest.id, workers if current_app.config["SEND_CONCURRENCY"] > 1 else 1)


@click.command("pause")
@with_appcontext
@click.argument("digest_id")
def pause(digest_id: str) -> None:
    """Pause a send in progress (workers stop after their current message)."""
    with committing():
        control.pause(_digest(digest_id), "paused from the command line")
    click.echo("Paused. Resume with 'digest resume'.")


@click.command("cancel")
@with_appcontext
@click.argument("digest_id")
def cancel(digest_id: str) -> None:
    """Cancel a send (or a schedule) for good."""
    with committing():
        dropped = control.cancel(_digest(digest_id))
    click.echo(f"Cancelled; {dropped} deliveries will not be sent.")


@click.command("schedule")
@with_appcontext
@click.argument("digest_id")
@click.argument("when", metavar="YYYY-MM-DDTHH:MM")
def schedule(digest_id: str, when: str) -> None:
    """Send DIGEST_ID at WHEN (UTC)."""
    try:
        moment = datetime.fromisoformat(when)
    except ValueError as exc:
        raise click.BadParameter(f"{when!r} is not a date and time like 2026-12-01T09:00") from exc
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    with committing():
        control.schedule(_digest(digest_id), moment)
    click.echo(f"Scheduled for {moment:%Y-%m-%d %H:%M} UTC.")


@click.command("status")
@with_appcontext
@click.argument("digest_id")
def status(digest_id: str) -> None:
    """Where a send stands."""
    digest = _digest(digest_id)
    click.echo(f"{digest.subject}: {digest.status.value}")
    if digest.status == DigestStatus.SCHEDULED and digest.scheduled_at:
        click.echo(f"  goes out at {digest.scheduled_at:%Y-%m-%d %H:%M} UTC")
    if digest.pause_reason:
        click.echo(f"  paused: {digest.pause_reason}")
    if digest.send_started_at:
        click.echo("  " + progress_line(control.progress(digest.id)))


@click.command("run")
@with_appcontext
def run() -> None:
    """One round of the periodic work (run it from cron every minute): start scheduled
    digests that are due, send due retries and leftovers of sends, send queued mail."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    report = engine.tick(app)
    for digest_id in report.started + report.resumed:
        if app.extensions.get("celery") is None:
            engine.work_on(app, digest_id)
        else:
            engine.dispatch(app, digest_id)
    click.echo(
        f"Started {len(report.started)} scheduled digest(s), resumed {len(report.resumed)} "
        f"send(s), sent {report.mail_sent} queued message(s)."
    )
