"""Steps of the reader's path, through the real HTTP layer."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.conftest import find_link, form_values, local
from tests.smtp_sink import Received, SMTPSink


def subscribe(
    client: FlaskClient, email: str, environ_base: dict[str, str] | None = None, **fields: Any
) -> Any:
    """Fill in and send the subscribe form as a browser would."""
    environ_base = environ_base or {}
    page = client.get("/subscribe", environ_base=environ_base)
    values = form_values(page.get_data(as_text=True))
    values.pop("website", None)
    values.update({"email": email, **fields})
    return client.post("/subscribe", data=values, environ_base=environ_base)


def text_of(received: Received) -> str:
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def html_of(received: Received) -> str:
    body = received.message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def confirm_link(received: Received) -> str:
    return local(find_link(text_of(received), "/confirm/"))


def confirm(client: FlaskClient, link: str) -> Any:
    page = client.get(link)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(link, data=form_values(page.get_data(as_text=True)))


def subscribe_and_confirm(
    client: FlaskClient, outbox: SMTPSink, email: str, **fields: Any
) -> Received:
    """Subscribe, confirm from the email; return the welcome message."""
    before = len(outbox.received)
    assert subscribe(client, email, **fields).status_code == 302
    confirmation = outbox.wait_for(before + 1)[-1]
    assert confirm(client, confirm_link(confirmation)).status_code == 200
    return outbox.wait_for(before + 2)[-1]
