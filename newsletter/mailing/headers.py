"""The headers our mail carries, built from configuration and validated values."""

from __future__ import annotations

from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app

from newsletter.mailing.mime import encode_header, format_address
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
    """Headers every copy of one email shares."""
    name, address = sender()
    headers = {
        "From": format_address(name, address),
        "Subject": encode_header(subject),
        "Auto-Submitted": "auto-generated",
    }
    reply_to = site_settings.current().reply_to
    if reply_to:
        reply_name, reply_address = parseaddr(str(reply_to))
        headers["Reply-To"] = format_address(reply_name, reply_address)
    return headers


def recipient_headers(
    to_address: str, to_name: str | None = None, message_id: str | None = None
) -> dict[str, str]:
    """Headers of one copy: its recipient, date and Message-ID."""
    return {
        "To": format_address(to_name, to_address),
        "Date": format_datetime(utcnow()),
        "Message-ID": message_id or make_msgid(domain=current_app.config["SENDER_DOMAIN"]),
    }


def list_id() -> str:
    """RFC 2919 ``List-Id``: one, stable, in our domain, for everything we publish."""
    name = site_settings.current().site_name
    return f"{encode_header(name)} <{current_app.config['LIST_ID']}>"


def list_headers(
    unsubscribe_url: str, token: str, list_id_value: str | None = None
) -> dict[str, str]:
    """``List-Id`` and RFC 2369/8058 one-click unsubscribe headers.

    The https URL comes first (RFC 8058 receivers POST ``List-Unsubscribe=One-Click``
    to it); the mailto fallback carries the same token in its subject.
    """
    mailto = f"mailto:{current_app.config['UNSUBSCRIBE_MAILTO']}?subject=unsubscribe%20{token}"
    return {
        "List-Id": list_id_value or list_id(),
        "List-Unsubscribe": f"<{unsubscribe_url}>,\r\n <{mailto}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
