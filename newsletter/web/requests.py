"""What views take from the request for services that must not read it themselves."""

from flask import request

from newsletter.limitkeys import address_key, hashed
from newsletter.subscriptions.services import Origin


def origin() -> Origin:
    """The client's address and user agent (ProxyFix, when configured, has already put
    the real client address in ``remote_addr``)."""
    return Origin(ip=request.remote_addr, user_agent=request.user_agent.string or None)


def submitted_address() -> str:
    """Rate-limit key for the address a form was sent for: the normalised address the
    lookup uses (``a@ｅｘａｍｐｌｅ.org`` is ``a@example.org``), hashed."""
    return hashed("address", address_key(request.form.get("email", "")))


def submitted_account() -> str:
    """Rate-limit key for one client guessing one account: its IP and the account."""
    return hashed("login", f"{request.remote_addr}|{address_key(request.form.get('email', ''))}")
