"""What views take from the request for services that must not read it themselves."""

from flask import request

from newsletter.subscriptions.services import Origin


def origin() -> Origin:
    """The client's address and user agent (ProxyFix, when configured, has already put
    the real client address in ``remote_addr``)."""
    return Origin(ip=request.remote_addr, user_agent=request.user_agent.string or None)


def submitted_address() -> str:
    """Rate-limit key for the address a form was sent for (case and spaces ignored)."""
    return "address:" + request.form.get("email", "").strip().lower()[:254]
