"""``flask digest …``: list and create digests, send them and follow their sends."""

from __future__ import annotations

import sys
import threading
import time
from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from newsletter.cli.common import committing, echo_rows
from newsletter.delivery import execution, figures, sends
from newsletter.delivery.processes import default_processes
from newsletter.digests import services as digests
from newsletter.digests.models import Digest, DigestStatus
from newsletter.extensions import db
from newsletter.sessions import services as sessions
from newsletter.timeutil import parse_moment
from newsletter.validation import InvalidInput
from newsletter.words import plural


@click.group("digest", help="Digests.", cls=AppGroup)
def group() -> None:
    pass


@group.command("list")
def digest_list() -> None:
    """Each digest's id, status and subject."""
    rows = [(str(d.id), d.status.value, d.subject) for d in digests.all_digests()]
    if not rows:
        click.echo("No digest yet.")
        return
    echo_rows(rows, ("id", "status", "subject"))


@group.command("create-from-session")
@click.argument("session")
def create_from_session(session: str) -> None:
    """A draft digest quoting every point of SESSION (its id or slug)."""
    found = sessions.session_by_reference(session)
    if found is None:
        raise click.ClickException(
            f"No session {session!r}: see 'flask --app newsletter sessions list'."
        )
    with committing():
        digest = digests.create_from_session(found)
        reference = (digest.id, len(digest.items))
    click.echo(f"Created draft digest {reference[0]} with {reference[1]} points.")


_LOG_EVERY_SECONDS = 10  # a progress line this often when the output is a log


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


def progress_line(current: figures.Progress, width: int = 24) -> str:
    share = current.done / current.total if current.total else 1.0
    filled = int(share * width)
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {share:4.0%}  sent {current.sent}"
        f" · failed {current.failed} · retrying {current.retrying} · left {current.left}"
        f" · {current.rate:.0f}/s · {_clock(current.seconds_left)} to go"
    )


def _run(digest_id: int, workers: int | None, processes: int | None = None) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    stop = threading.Event()
    interactive = sys.stdout.isatty()
    last_line = [0.0]

    def show(current: figures.Progress) -> None:
        """A bar redrawn in place on a terminal; a line every 10 s in a log."""
        if interactive:
            click.echo("\r" + progress_line(current), nl=False)
        elif time.monotonic() - last_line[0] >= _LOG_EVERY_SECONDS:
            last_line[0] = time.monotonic()
            click.echo(progress_line(current))

    processes, workers = _plan(app, processes, workers)
    try:
        final = execution.send_foreground(
            app, digest_id, show, stop, concurrency=workers, processes=processes
        )
    except KeyboardInterrupt:
        click.echo(
            "\nInterrupted. Deliveries not sent yet stay queued: run the same command to resume."
        )
        raise SystemExit(130) from None
    if interactive:
        click.echo()
    click.echo(progress_line(final))
    _outcome(digest_id, final)


def _plan(app: Flask, processes: int | None, workers: int | None) -> tuple[int, int]:
    """(sending processes, connections each). By default the send's
    ``SEND_CONCURRENCY`` connections are spread over one process per core (never more
    processes than connections), so the bound on repeats after a crash stays one message
    per configured connection; ``--workers`` alone keeps a single process, as before."""
    concurrency = int(app.config["SEND_CONCURRENCY"])  # 1 on SQLite
    if processes is None:
        processes = 1 if workers is not None else min(default_processes(app), concurrency)
    elif processes > 1 and default_processes(app) == 1:
        click.echo("SQLite sends from one process at a time; sending from one.")
        processes = 1
    if concurrency == 1:
        workers = 1
    elif workers is None:
        workers = max(1, concurrency // processes)
    return processes, workers


def _outcome(digest_id: int, final: figures.Progress) -> None:
    """Say how the send stands now that this command stopped working on it."""
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


_processes_option = click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="Sending processes on this machine (default: one per core on PostgreSQL, but no "
    "more than NEWSLETTER_SEND_CONCURRENCY; 1 on SQLite).",
)


@group.command("send")
@click.argument("digest_id")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="SMTP connections of each sending process (default: NEWSLETTER_SEND_CONCURRENCY "
    "shared among the processes; 1 on SQLite).",
)
@_processes_option
@click.option(
    "--reclaim",
    is_flag=True,
    help="Take back every delivery claimed by other workers now (after a crash, when "
    "no other sender runs), instead of waiting for their claims to go stale.",
)
@click.option(
    "--archive/--no-archive",
    "in_archive",
    default=None,
    help="Publish it in the public archive (default: when every target list is public).",
)
def send(
    digest_id: str,
    workers: int | None,
    processes: int | None,
    reclaim: bool,
    in_archive: bool | None,
) -> None:
    """Send digest DIGEST_ID to every active subscriber of its lists, in the foreground,
    with a progress bar. Interrupt it (or let it crash) and run it again to resume."""
    digest = _digest(digest_id)
    if digest.status in (DigestStatus.DRAFT, DigestStatus.SCHEDULED):
        with committing():
            size = sends.start_send(digest, in_archive=in_archive)
        click.echo(f"Sending “{digest.subject}” to {plural(size, 'subscriber')}.")
        click.echo(_archive_line(digest))
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
            released = sends.release_stale_claims(digest.id, timedelta(0))
        click.echo(f"Took back {released} claimed deliveries.")
    _run(digest.id, workers, processes)


@group.command("resume")
@click.argument("digest_id")
@click.option("--workers", type=click.IntRange(1, 64), default=None)
@_processes_option
def resume(digest_id: str, workers: int | None, processes: int | None) -> None:
    """Resume a paused send, in the foreground."""
    digest = _digest(digest_id)
    with committing():
        sends.resume(digest)
    click.echo(f"Resuming “{digest.subject}”.")
    _run(digest.id, workers, processes)


@group.command("pause")
@click.argument("digest_id")
def pause(digest_id: str) -> None:
    """Pause a send in progress (workers stop after their current message)."""
    with committing():
        sends.pause(_digest(digest_id), "paused from the command line")
    click.echo("Paused. Resume with 'digest resume'.")


@group.command("cancel")
@click.argument("digest_id")
def cancel(digest_id: str) -> None:
    """Cancel a send (or a schedule) for good."""
    with committing():
        dropped = sends.cancel(_digest(digest_id))
    click.echo(f"Cancelled; {dropped} deliveries will not be sent.")


def _archive_line(digest: Digest) -> str:
    if digest.in_archive:
        return "It is published in the public archive."
    return "It is not published in the public archive."


@group.command("schedule")
@click.argument("digest_id")
@click.argument("when", metavar="YYYY-MM-DDTHH:MM[+HH:MM]")
@click.option(
    "--zone",
    default="UTC",
    show_default=True,
    help="Time zone of WHEN when it has no offset: an IANA name such as Asia/Kabul.",
)
@click.option(
    "--archive/--no-archive",
    "in_archive",
    default=None,
    help="Publish it in the public archive (default: when every target list is public).",
)
def schedule(digest_id: str, when: str, zone: str, in_archive: bool | None) -> None:
    """Send DIGEST_ID at WHEN: in its own offset if it has one, else in --zone."""
    digest = _digest(digest_id)
    try:
        moment = parse_moment(when, zone)
    except InvalidInput as exc:
        raise click.BadParameter(str(exc)) from exc
    with committing():
        sends.schedule(digest, moment.utc, in_archive=in_archive)
    click.echo(f"Scheduled for {moment.described}.")
    click.echo(_archive_line(digest))


@group.command("status")
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
        click.echo("  " + progress_line(figures.progress(digest.id)))
