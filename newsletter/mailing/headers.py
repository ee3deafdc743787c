"""The headers our mail carries, built from configuration and validated values."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app

from newsletter import i18n
from newsletter.mailing.encoding import phrase
from newsletter.mailing.mime import check_header_value, encode_header, format_address
from newsletter.settings import services as site_settings
from newsletter.timeutil import utcnow


def sender() -> tuple[str, str]:
    """(display name, address): the name from the settings, the address from
    MAIL_DEFAULT_SENDER (infrastructure: SPF, DKIM and DMARC depend on its domain)."""
    _, address = parseaddr(str(current_app.config["MAIL_DEFAULT_SENDER"]))
    if "@" not in address:
        raise RuntimeError("NEWSLETTER_MAIL_DEFAULT_SENDER must hold an email address")
    return site_settings.current().sender_name, address


def common_headers(subject: str) -> dict[str, str]:
    """Headers every copy of one email shares; ``Content-Language`` is the language it
    is rendered in (``i18n.force_language``)."""
    name, address = sender()
    headers = {
        "From": format_address(name, address),
        "Subject": encode_header(subject),
        "Auto-Submitted": "auto-generated",
        "Content-Language": i18n.current_language(),
    }
    reply_to = site_settings.current().reply_to
    if reply_to:
        reply_name, reply_address = parseaddr(str(reply_to))
        headers["Reply-To"] = format_address(reply_name, reply_address)
    return headers


def date(moment: float | None = None) -> str:
    """An RFC 5322 date with a numeric zone (``+0000``; ``formatdate(usegmt=True)``
    writes the obsolete ``GMT``)."""
    when = utcnow() if moment is None else datetime.fromtimestamp(moment, UTC)
    return format_datetime(when.replace(microsecond=0))


def recipient_headers(
    to_address: str, to_name: str | None = None, message_id: str | None = None
) -> dict[str, str]:
    """Headers of one copy: its recipient, date and Message-ID."""
    return {
        "To": format_address(to_name, to_address),
        "Date": date(),
        "Message-ID": message_id or make_msgid(domain=current_app.config["SENDER_DOMAIN"]),
    }


def list_id(name: str | None = None, slug: str | None = None) -> str:
    """RFC 2919 ``List-Id``: stable and in our domain; each list has its own
    (``<slug>.<LIST_ID>``), and mail about no list in particular carries the site's.
    The phrase is quoted or encoded when it needs it."""
    config = current_app.config
    identifier = f"{slug}.{config['LIST_ID']}" if slug else config["LIST_ID"]
    label = check_header_value(name or site_settings.current().site_name, "list name")
    return f"{phrase(label)} <{identifier}>"


def list_headers(
    unsubscribe_url: str, token: str, list_id_value: str | None = None
) -> dict[str, str]:
    """``List-Id``, RFC 2369/8058 one-click unsubscribe headers, and the archive.

    The https URL comes first (RFC 8058 receivers POST ``List-Unsubscribe=One-Click``
    to it); the mailto fallback carries the same token in its subject. Readers cannot
    post to the list (``List-Post: NO``, RFC 2369 3.4).
    """
    mailto = f"mailto:{current_app.config['UNSUBSCRIBE_MAILTO']}?subject=unsubscribe%20{token}"
    return {
        "List-Id": list_id_value or list_id(),
        "List-Unsubscribe": f"<{unsubscribe_url}>,\r\n <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Post": "NO",
    }


def bulk_headers(archive_url: str, archived_at: str | None) -> dict[str, str]:
    """What a newsletter issue adds: ``Precedence: bulk`` (vacation responders stay
    quiet), the archive (``List-Archive``, RFC 2369) and this issue in it
    (``Archived-At``, RFC 5064)."""
    headers = {"Precedence": "bulk", "List-Archive": f"<{archive_url}>"}
    if archived_at:
        headers["Archived-At"] = f"<{archived_at}>"
    return headers


def feedback_id(campaign: str, kind: str) -> dict[str, str]:
    """Gmail's ``Feedback-ID: campaign:kind:sender`` when ``FEEDBACK_ID`` is set (it is
    signed, as Gmail asks)."""
    sender_id = current_app.config["FEEDBACK_ID"]
    if not sender_id:
        return {}
    return {"Feedback-ID": f"{campaign}:{kind}:{sender_id}"}
