"""Fetching returned mail from a mailbox (IMAP or POP3, over TLS) on the clock.

Each message's outcome is committed before the server is told to move or delete it:
a crash in between leaves the message in the mailbox, and reading it again changes
nothing (processing is idempotent). A message that could not be processed stays too.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import poplib
import ssl
from typing import Any

from flask import Flask

from newsletter.bounces import inbound, runner

log = logging.getLogger(__name__)


class MailboxError(Exception):
    """The mailbox cannot be reached or refused us; the message says how."""


def configured(app: Flask) -> bool:
    return bool(app.config["INBOUND_IMAP_HOST"] or app.config["INBOUND_POP3_HOST"])


def poll(app: Flask) -> inbound.Summary | None:
    """Fetch and process what waits in the configured mailbox (None: none configured)."""
    if not configured(app):
        return None
    with app.app_context():
        try:
            if app.config["INBOUND_IMAP_HOST"]:
                return _poll_imap(app.config)
            return _poll_pop3(app.config)
        except (OSError, imaplib.IMAP4.error, poplib.error_proto, ssl.SSLError) as exc:
            raise MailboxError(f"the inbound mailbox failed: {exc}") from exc


def poll_quietly(app: Flask) -> int:
    """For the clock: poll, log a failure instead of raising; the number of messages read."""
    try:
        summary = poll(app)
    except MailboxError as exc:
        log.warning("%s; trying again at the next tick", exc)
        return 0
    return summary.read if summary is not None else 0


_TIMEOUT = 30.0


def _endpoint(config: Any, protocol: str) -> tuple[str, int, ssl.SSLContext, bool]:
    """Host, port, the TLS context (certificates verified), and whether TLS starts at
    once (``ssl``) rather than by STARTTLS: mail is never fetched in the clear."""
    prefix = f"INBOUND_{protocol}_"
    security = str(config[prefix + "SECURITY"] or "ssl").lower()
    if security not in ("ssl", "starttls"):
        raise MailboxError(f"unknown security {security!r}: use ssl or starttls (TLS is required)")
    context = ssl.create_default_context(cafile=config["INBOUND_TLS_CA_FILE"] or None)
    return str(config[prefix + "HOST"]), int(config[prefix + "PORT"]), context, security == "ssl"


def _poll_imap(config: Any) -> inbound.Summary:
    host, port, context, implicit = _endpoint(config, "IMAP")
    client: imaplib.IMAP4
    if implicit:
        client = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=_TIMEOUT)
    else:
        client = imaplib.IMAP4(host, port, timeout=_TIMEOUT)
        client.starttls(ssl_context=context)
    summary = inbound.Summary()
    try:
        client.login(str(config["INBOUND_IMAP_USERNAME"]), str(config["INBOUND_IMAP_PASSWORD"]))
        folder = str(config["INBOUND_IMAP_FOLDER"] or "INBOX")
        status, _ = client.select(_quote(folder))
        if status != "OK":
            raise MailboxError(f"the IMAP folder {folder!r} cannot be opened")
        _, found = client.uid("SEARCH", "ALL")
        uids = [uid.decode("ascii") for uid in (found[0] or b"").split()]
        uids = uids[: int(config["INBOUND_BATCH"])]
        move_to = config["INBOUND_IMAP_MOVE_TO"]
        can_move = "MOVE" in client.capabilities
        for uid in uids:
            _, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if raw is None:
                continue
            result = runner.process_and_commit(raw, "imap")
            summary.add(result)
            if result.outcome == "error":
                continue  # stays in the mailbox, unseen, for the next tick
            if move_to and can_move:
                client.uid("MOVE", uid, _quote(str(move_to)))
                continue
            if move_to:
                client.uid("COPY", uid, _quote(str(move_to)))
            client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)")
        client.expunge()
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()
    return summary


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _poll_pop3(config: Any) -> inbound.Summary:
    host, port, context, implicit = _endpoint(config, "POP3")
    client: poplib.POP3
    if implicit:
        client = poplib.POP3_SSL(host, port, context=context, timeout=_TIMEOUT)
    else:
        client = poplib.POP3(host, port, timeout=_TIMEOUT)
        client.stls(context=context)
    summary = inbound.Summary()
    try:
        client.user(str(config["INBOUND_POP3_USERNAME"]))
        client.pass_(str(config["INBOUND_POP3_PASSWORD"]))
        count, _ = client.stat()
        for number in range(1, min(count, int(config["INBOUND_BATCH"])) + 1):
            _, lines, _ = client.retr(number)
            result = runner.process_and_commit(b"\r\n".join(lines) + b"\r\n", "pop3")
            summary.add(result)
            if result.outcome != "error":
                client.dele(number)  # removed at QUIT, after every outcome is committed
        client.quit()
    except BaseException:
        client.close()  # no QUIT: nothing marked for deletion is deleted
        raise
    return summary
